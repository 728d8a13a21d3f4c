import type pg from 'pg';
import { quoteIdent } from '../../control/sql/quote.js';
import { PgwardenError } from '../../errors.js';
import type { TableName } from './honeytoken-request.js';

export interface TableColumn {
  readonly name: string;
  /** Of the string category (text, varchar, char, citext, domains over them). */
  readonly text: boolean;
  /** GENERATED ALWAYS AS (…) STORED: cannot be given a value. */
  readonly generated: boolean;
}

/** A table honeytokens go in, as found in the catalog. */
export interface HoneytokenTable {
  readonly schema: string;
  readonly table: string;
  /** The quoted, qualified name for SQL (search_path is pg_catalog on control connections). */
  readonly sql: string;
  /** schema.table for people and the state database. */
  readonly display: string;
  readonly columns: readonly TableColumn[];
}

/** Looks the table up; only ordinary and partitioned tables hold honeytokens. */
export async function resolveTable(
  client: pg.ClientBase,
  name: TableName,
): Promise<HoneytokenTable> {
  const result = await client.query<{
    relkind: string;
    attname: string | null;
    text: boolean | null;
    generated: boolean | null;
  }>(
    `SELECT c.relkind, a.attname, t.typcategory = 'S' AS text, a.attgenerated <> '' AS generated
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE n.nspname = $1 AND c.relname = $2
      ORDER BY a.attnum`,
    [name.schema, name.table],
  );
  const display = displayName(name.schema, name.table);
  const [first] = result.rows;
  if (first === undefined) {
    throw new PgwardenError('PGW_HONEYTOKEN_INVALID', `there is no table ${display}`, {
      hint: 'name the schema if it is not public: --table schema.table (and --database if it is in another database)',
    });
  }
  if (first.relkind !== 'r' && first.relkind !== 'p') {
    throw new PgwardenError('PGW_HONEYTOKEN_INVALID', `${display} is not a table`, {
      hint: 'honeytokens go in the rows of ordinary or partitioned tables; name the table a view reads from',
    });
  }
  return {
    schema: name.schema,
    table: name.table,
    sql: `${quoteIdent(name.schema)}.${quoteIdent(name.table)}`,
    display,
    columns: result.rows
      .filter((row) => row.attname !== null)
      .map((row) => ({
        name: row.attname as string,
        text: row.text === true,
        generated: row.generated === true,
      })),
  };
}

/** The column `name` of the table, which must be of a text type. */
export function textColumn(table: HoneytokenTable, name: string): TableColumn {
  const column = table.columns.find((c) => c.name === name);
  if (column === undefined) {
    throw new PgwardenError('PGW_HONEYTOKEN_INVALID', `${table.display} has no column "${name}"`, {
      hint: `its columns are: ${table.columns.map((c) => c.name).join(', ')}`,
    });
  }
  if (!column.text) {
    const texts = table.columns.filter((c) => c.text).map((c) => c.name);
    throw new PgwardenError(
      'PGW_HONEYTOKEN_NO_MARKER',
      `column "${name}" of ${table.display} is not of a text type`,
      {
        hint:
          texts.length === 0
            ? `${table.display} has no text column: choose another table`
            : `its text columns are: ${texts.join(', ')}`,
      },
    );
  }
  return column;
}

/** `schema.table`, quoting only the parts that need it. */
export function displayName(schema: string, table: string): string {
  const part = (name: string): string =>
    /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
  return `${part(schema)}.${part(table)}`;
}
