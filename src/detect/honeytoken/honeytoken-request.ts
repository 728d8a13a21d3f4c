import {
  isRecord,
  loadSqlParser,
  parseStatements,
  scanTokens,
  unwrapNode,
} from '../../audit/classify/pg-parser.js';
import { isSingleExpression } from '../../control/access-spec/policy-expression.js';
import { PgwardenError } from '../../errors.js';
import { markerFormatProblem, RANDOM_PLACEHOLDER } from './honeytoken-marker.js';

/** A table as named on the command line; unqualified means `public`. */
export interface TableName {
  readonly schema: string;
  readonly table: string;
}

/** `pgwarden detect honeytoken add`, validated (names are checked against the catalog later). */
export type AddRequest =
  | {
      readonly mode: 'mark';
      readonly database: string;
      readonly table: TableName;
      /** One SQL expression: the rows to mark. */
      readonly where: string;
      /** The column to take markers from; undefined for the first usable text column. */
      readonly column: string | undefined;
    }
  | {
      readonly mode: 'plant';
      readonly database: string;
      readonly table: TableName;
      /** The text column the generated marker goes in. */
      readonly column: string;
      /** The fake row's other values, by column name. */
      readonly values: Readonly<Record<string, unknown>>;
      /** The marker's shape: `{random}` is replaced by random letters and digits. */
      readonly markerFormat: string;
    };

/** The flags of `add`, as given. */
export interface AddFlags {
  readonly database?: string | undefined;
  readonly table?: string | undefined;
  readonly where?: string | undefined;
  readonly column?: string | undefined;
  readonly plant?: boolean | undefined;
  readonly values?: string | undefined;
  readonly markerFormat?: string | undefined;
}

const DEFAULT_DATABASE = 'postgres';

export async function parseAddRequest(flags: AddFlags): Promise<AddRequest> {
  if (flags.table === undefined) throw invalid('add needs --table [schema.]TABLE');
  const database = flags.database ?? DEFAULT_DATABASE;
  if (database.length === 0 || database.length > 63 || database.includes('\0')) {
    throw invalid(`--database "${database}" is not a database name`);
  }
  const table = await parseTableName(flags.table);
  const column = flags.column === undefined ? undefined : await parseColumnName(flags.column);
  if (flags.plant !== true) {
    if (flags.values !== undefined || flags.markerFormat !== undefined) {
      throw invalid('--values and --marker-format go with --plant');
    }
    if (flags.where === undefined) {
      throw invalid('add needs --where CONDITION (the rows to mark), or --plant --column C');
    }
    if (!(await isSingleExpression(flags.where))) {
      throw invalid(
        `--where "${flags.where}" is not one SQL expression (no semicolons, comments or closing parentheses)`,
      );
    }
    return { mode: 'mark', database, table, where: flags.where, column };
  }
  if (flags.where !== undefined) {
    throw invalid('--plant inserts a new row: it takes no --where');
  }
  if (column === undefined) throw invalid('--plant needs --column C (the text column to plant in)');
  const markerFormat = flags.markerFormat ?? RANDOM_PLACEHOLDER;
  const problem = markerFormatProblem(markerFormat);
  if (problem !== undefined) throw invalid(`--marker-format "${markerFormat}" ${problem}`);
  return {
    mode: 'plant',
    database,
    table,
    column,
    values: parseValues(flags.values, column),
    markerFormat,
  };
}

/**
 * `customers`, `sales.customers` or `"Sales"."Customers"`, read by
 * PostgreSQL's own parser (so case folding and quoting are PostgreSQL's).
 */
export async function parseTableName(text: string): Promise<TableName> {
  const range = (await parseOne(`SELECT FROM ${text}`, 'fromClause'))?.fromClause;
  const node = Array.isArray(range) && range.length === 1 ? unwrapNode(range[0]) : undefined;
  const [type, body] = node ?? [];
  const keys = body === undefined ? [] : Object.keys(body).sort();
  const plain = ['inh', 'location', 'relname', 'relpersistence', 'schemaname'];
  if (
    type !== 'RangeVar' ||
    body === undefined ||
    typeof body.relname !== 'string' ||
    body.inh !== true ||
    keys.some((key) => !plain.includes(key))
  ) {
    throw invalid(`--table "${text}" is not a table name ([schema.]table)`);
  }
  return {
    schema: typeof body.schemaname === 'string' ? body.schemaname : 'public',
    table: body.relname,
  };
}

/** A column name as PostgreSQL reads it: `email`, `"E-Mail"`. */
export async function parseColumnName(text: string): Promise<string> {
  const targets = (await parseOne(`SELECT ${text}`, 'targetList'))?.targetList;
  const target =
    Array.isArray(targets) && targets.length === 1 ? unwrapNode(targets[0]) : undefined;
  const value = target?.[0] === 'ResTarget' ? unwrapNode(target[1].val) : undefined;
  const fields = value?.[0] === 'ColumnRef' ? value[1].fields : undefined;
  const field = Array.isArray(fields) && fields.length === 1 ? unwrapNode(fields[0]) : undefined;
  const name = field?.[0] === 'String' ? field[1].sval : undefined;
  if (typeof name !== 'string' || target?.[1].name !== undefined) {
    throw invalid(`--column "${text}" is not a column name`);
  }
  return name;
}

/** --values: a JSON object of the planted row's other columns. */
function parseValues(text: string | undefined, column: string): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalid(`--values is not JSON: ${(cause as Error).message}`);
  }
  if (!isRecord(value)) {
    throw invalid('--values must be a JSON object of column names and values');
  }
  if (Object.hasOwn(value, column)) {
    throw invalid(`--values sets "${column}", the column the marker goes in`);
  }
  if (Object.keys(value).some((key) => key === '' || key.includes('\0'))) {
    throw invalid('--values has an empty column name');
  }
  return { ...value };
}

/**
 * The one SELECT of `sql` when it has nothing but `clause` (no WHERE, no
 * alias for a table, …); comments are refused (they could hide the rest).
 */
async function parseOne(
  sql: string,
  clause: string,
): Promise<Readonly<Record<string, unknown>> | undefined> {
  await loadSqlParser();
  const tokens = scanTokens(sql);
  if (tokens === undefined || tokens.some((t) => t.tokenName.endsWith('_COMMENT'))) {
    return undefined;
  }
  const statements = parseStatements(sql);
  const [statement] = statements ?? [];
  if (statements?.length !== 1 || statement?.type !== 'SelectStmt') return undefined;
  const only = [clause, 'limitOption', 'op'];
  return Object.keys(statement.body).every((key) => only.includes(key))
    ? statement.body
    : undefined;
}

function invalid(message: string): PgwardenError {
  return new PgwardenError('PGW_HONEYTOKEN_INVALID', message, {
    hint: 'usage: pgwarden detect honeytoken add --table [schema.]T (--where CONDITION [--column C] | --plant --column C [--values JSON] [--marker-format F]) [--database D]',
  });
}
