import type pg from 'pg';
import { quoteIdent } from '../../control/sql/quote.js';
import { PgwardenError } from '../../errors.js';
import { markerProblem } from './honeytoken-marker.js';
import type { HoneytokenTable, TableColumn } from './honeytoken-table.js';
import { textColumn } from './honeytoken-table.js';

/** Most rows one `add` marks: honeytokens are a few trap rows, not a copy of the table. */
export const MAX_ROWS_PER_ADD = 100;

/** The value chosen to watch in a marked row. */
export interface ChosenMarker {
  readonly column: string;
  readonly marker: string;
}

/**
 * Picks a marker in every row `where` selects: the first value, in column
 * order (or in `--column`), that can be a marker (honeytoken-marker.ts), is
 * not a honeytoken yet, and occurs in no other row of the table, in any
 * column (the whole row's text is searched, as the gateway searches
 * values: a marker inside another row's value would raise false alerts).
 * All or nothing: a row without such a value refuses the whole request.
 * Runs in the caller's read-only transaction on the target database.
 */
export async function chooseMarkers(
  client: pg.ClientBase,
  table: HoneytokenTable,
  where: string,
  column: string | undefined,
  taken: ReadonlySet<string>,
): Promise<ChosenMarker[]> {
  const columns: readonly TableColumn[] =
    column === undefined ? table.columns.filter((c) => c.text) : [textColumn(table, column)];
  if (columns.length === 0) {
    throw new PgwardenError('PGW_HONEYTOKEN_NO_MARKER', `${table.display} has no text column`, {
      hint: 'honeytokens watch text values: choose a table with a text column',
    });
  }
  const selected = await selectRows(client, table, where, columns);
  // Per row, its usable values in column order: the candidates tried round by round.
  const candidates = selected.map((values) =>
    values.flatMap((value, i) =>
      value !== null && markerProblem(value) === undefined && !taken.has(value)
        ? [{ column: (columns[i] as TableColumn).name, marker: value }]
        : [],
    ),
  );
  const chosen: (ChosenMarker | undefined)[] = selected.map(() => undefined);
  for (let round = 0; ; round++) {
    const open = candidates.flatMap((list, row) =>
      chosen[row] === undefined && list[round] !== undefined ? [row] : [],
    );
    if (open.length === 0) break;
    const counts = await occurrences(
      client,
      table,
      open.map((row) => (candidates[row]?.[round] as ChosenMarker).marker),
    );
    for (const row of open) {
      const candidate = candidates[row]?.[round] as ChosenMarker;
      if (counts.get(candidate.marker) === 1) chosen[row] = candidate;
    }
  }
  const missing = chosen.filter((c) => c === undefined).length;
  if (missing > 0) {
    throw new PgwardenError(
      'PGW_HONEYTOKEN_NO_MARKER',
      `${missing} of the ${selected.length} selected row(s) of ${table.display} have no distinctive text value in ${column === undefined ? 'any text column' : `column "${column}"`}: one of 8-64 printable ASCII characters (no \\ or "), at least 5 different, found in no other row, and not a honeytoken already`,
      {
        hint: 'select other rows, choose another --column, or plant a fake row: --plant --column C',
      },
    );
  }
  return chosen as ChosenMarker[];
}

/** The selected rows' candidate columns as text; refuses none, and too many. */
async function selectRows(
  client: pg.ClientBase,
  table: HoneytokenTable,
  where: string,
  columns: readonly TableColumn[],
): Promise<(string | null)[][]> {
  const list = columns.map((c) => `${quoteIdent(c.name)}::pg_catalog.text`).join(', ');
  let rows: (string | null)[][];
  try {
    // `where` is one expression (checked with PostgreSQL's parser), in parentheses.
    const result = await client.query<(string | null)[]>({
      text: `SELECT ${list} FROM ${table.sql} WHERE (${where}) LIMIT ${MAX_ROWS_PER_ADD + 1}`,
      rowMode: 'array',
    });
    rows = result.rows;
  } catch (cause) {
    throw new PgwardenError(
      'PGW_HONEYTOKEN_INVALID',
      `--where failed on ${table.display}: ${(cause as Error).message}`,
      {
        cause,
        hint: 'the condition runs with search_path = pg_catalog: qualify your own functions and types',
      },
    );
  }
  if (rows.length === 0) {
    throw new PgwardenError(
      'PGW_HONEYTOKEN_INVALID',
      `--where selects no row of ${table.display}`,
      {
        hint: 'check the condition with a SELECT first',
      },
    );
  }
  if (rows.length > MAX_ROWS_PER_ADD) {
    throw new PgwardenError(
      'PGW_HONEYTOKEN_LIMIT',
      `--where selects more than ${MAX_ROWS_PER_ADD} rows of ${table.display}`,
      { hint: 'honeytokens are a few trap rows: narrow the condition' },
    );
  }
  return rows;
}

/** In how many rows of the table each value occurs, anywhere in the row (one scan). */
async function occurrences(
  client: pg.ClientBase,
  table: HoneytokenTable,
  values: readonly string[],
): Promise<Map<string, number>> {
  const result = await client.query<{ value: string; n: number }>(
    `SELECT pgw_m.value, count(*)::int AS n
       FROM ${table.sql} AS pgw_t, pg_catalog.unnest($1::pg_catalog.text[]) AS pgw_m(value)
      WHERE pg_catalog.strpos((pgw_t.*)::pg_catalog.text, pgw_m.value) > 0
      GROUP BY pgw_m.value`,
    [[...new Set(values)]],
  );
  return new Map(result.rows.map((row) => [row.value, row.n]));
}
