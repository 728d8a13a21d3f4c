import type pg from 'pg';
import { quoteIdent } from '../../control/sql/quote.js';
import { PgwardenError } from '../../errors.js';
import { generateMarker, markerProblem } from './honeytoken-marker.js';
import type { HoneytokenTable } from './honeytoken-table.js';
import { textColumn } from './honeytoken-table.js';

/**
 * Inserts the fake row: a fresh marker in `column`, `values` in the columns
 * they name (converted by PostgreSQL from JSON, as json_populate_record
 * does), defaults everywhere else. Runs in the caller's transaction on the
 * target database; returns the marker.
 */
export async function plantRow(
  client: pg.ClientBase,
  table: HoneytokenTable,
  column: string,
  values: Readonly<Record<string, unknown>>,
  markerFormat: string,
): Promise<string> {
  textColumn(table, column);
  const names = Object.keys(values);
  for (const name of names) {
    const found = table.columns.find((c) => c.name === name);
    if (found === undefined || found.generated) {
      throw new PgwardenError(
        'PGW_HONEYTOKEN_INVALID',
        `--values names "${name}", ${found === undefined ? 'not a column' : 'a generated column'} of ${table.display}`,
        { hint: `its columns are: ${table.columns.map((c) => c.name).join(', ')}` },
      );
    }
  }
  const marker = generateMarker(markerFormat);
  const problem = markerProblem(marker);
  if (problem !== undefined) {
    throw new PgwardenError('PGW_HONEYTOKEN_INVALID', `the marker would be ${problem}`, {
      hint: 'choose another --marker-format',
    });
  }
  const targets = [column, ...names].map(quoteIdent).join(', ');
  const sources = ['$1', ...names.map((name) => `pgw_v.${quoteIdent(name)}`)].join(', ');
  try {
    await client.query(
      `INSERT INTO ${table.sql} (${targets})
       SELECT ${sources} FROM pg_catalog.json_populate_record(NULL::${table.sql}, $2::pg_catalog.json) AS pgw_v`,
      [marker, JSON.stringify(values)],
    );
  } catch (cause) {
    throw new PgwardenError(
      'PGW_HONEYTOKEN_INVALID',
      `the fake row could not be inserted into ${table.display}: ${(cause as Error).message}`,
      {
        cause,
        hint: 'give the columns without a default a value with --values \'{"column": "value"}\' (and --marker-format if the column checks its format)',
      },
    );
  }
  return marker;
}
