import { parsePlPgSQLSync } from 'libpg-query';
import { isParsableText, isSqlParserLoaded } from '../../audit/classify/pg-parser.js';

/**
 * PL/pgSQL's own compiler (libpg-query's parsePlPgSQLSync) on a DO block or
 * a CREATE FUNCTION statement: the JSON tree of every function in `sql`, or
 * undefined if it does not compile (never throws). The WASM module must
 * already be loaded (loadSqlParser).
 */
export function parsePlpgsql(sql: string): unknown {
  if (!isSqlParserLoaded() || !isParsableText(sql)) return undefined;
  try {
    return parsePlPgSQLSync(sql);
  } catch {
    return undefined;
  }
}
