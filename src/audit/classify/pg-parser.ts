/**
 * Thin, never-throwing access to PostgreSQL's own parser and scanner
 * (libpg-query, compiled to WASM), plus the small helpers every user of the
 * parse tree needs: unwrapping `{ NodeType: body }`, and turning the UTF-8
 * byte offsets PostgreSQL reports into JavaScript string indices.
 */

import type { ScanToken } from 'libpg-query';
import { loadModule, parseSync, scanSync } from 'libpg-query';

/** A node body of the JSON parse tree: the object under `{ NodeType: … }`. */
export type PgNode = Readonly<Record<string, unknown>>;

/** One statement of a parse: its node type (e.g. `SelectStmt`), body and byte range. */
export interface RawStatement {
  readonly type: string;
  readonly body: PgNode;
  /** Byte offset of the statement in the UTF-8 encoded SQL. */
  readonly byteStart: number;
  /** Byte offset just past the statement, or undefined for "to the end of the SQL". */
  readonly byteEnd: number | undefined;
}

let loading: Promise<void> | undefined;
let loaded = false;

/** Loads the WASM parser once per process; later calls share the first load. */
export function loadSqlParser(): Promise<void> {
  if (loading === undefined) {
    loading = loadModule().then(
      () => {
        loaded = true;
      },
      (error: unknown) => {
        loading = undefined; // let a later call try again
        throw error;
      },
    );
  }
  return loading;
}

/** Whether the sync parser functions may be used. */
export function isSqlParserLoaded(): boolean {
  return loaded;
}

export function isRecord(value: unknown): value is PgNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ SelectStmt: {...} }` → `['SelectStmt', {...}]`; anything else → undefined. */
export function unwrapNode(value: unknown): readonly [string, PgNode] | undefined {
  if (!isRecord(value)) return undefined;
  for (const key in value) {
    const body = value[key];
    return isRecord(body) ? [key, body] : undefined;
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether the parser can be trusted to see exactly this text. It is handed a
 * NUL-terminated UTF-8 copy, so an embedded NUL would silently cut the SQL
 * short, and a lone surrogate has no UTF-8 form (the byte offsets would drift).
 */
export function isParsableText(sql: string): boolean {
  return !sql.includes('\0') && !LONE_SURROGATE.test(sql);
}

/** The statements of `sql`, or undefined if PostgreSQL's grammar rejects it (never throws). */
export function parseStatements(sql: string): readonly RawStatement[] | undefined {
  if (!loaded || !isParsableText(sql)) return undefined;
  let parsed: unknown;
  try {
    parsed = parseSync(sql);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const stmts = parsed.stmts ?? [];
  if (!Array.isArray(stmts)) return undefined;
  const result: RawStatement[] = [];
  for (const raw of stmts) {
    if (!isRecord(raw)) return undefined;
    const node = unwrapNode(raw.stmt);
    if (node === undefined) return undefined;
    const byteStart = typeof raw.stmt_location === 'number' ? raw.stmt_location : 0;
    const byteEnd =
      typeof raw.stmt_len === 'number' && raw.stmt_len > 0 ? byteStart + raw.stmt_len : undefined;
    result.push({ type: node[0], body: node[1], byteStart, byteEnd });
  }
  return result;
}

/** The tokens of `sql` (byte offsets), or undefined if the scanner fails (never throws). */
export function scanTokens(sql: string): readonly ScanToken[] | undefined {
  if (!loaded || !isParsableText(sql)) return undefined;
  try {
    const tokens = scanSync(sql).tokens;
    return Array.isArray(tokens) ? tokens : undefined;
  } catch {
    return undefined;
  }
}

const NON_ASCII = /[\u0080-\uFFFF]/;

/**
 * A function mapping a UTF-8 byte offset of `text` to the UTF-16 index of the
 * character that byte belongs to (offsets past the end map to `text.length`).
 */
export function byteToCharIndex(text: string): (byteOffset: number) => number {
  const length = text.length;
  if (!NON_ASCII.test(text)) {
    return (byteOffset) => Math.min(Math.max(byteOffset, 0), length);
  }
  const starts: number[] = []; // starts[byte] = char index
  for (let i = 0; i < length; ) {
    const cp = text.codePointAt(i) ?? 0;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let b = 0; b < bytes; b++) starts.push(i);
    i += cp > 0xffff ? 2 : 1;
  }
  const byteLength = starts.length;
  return (byteOffset) => {
    if (byteOffset <= 0) return 0;
    if (byteOffset >= byteLength) return length;
    return starts[byteOffset] ?? length;
  };
}

const SQL_SPACE = /^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g;

/** Trims the characters PostgreSQL's lexer treats as whitespace (not all Unicode spaces). */
export function trimSql(text: string): string {
  return text.replace(SQL_SPACE, '');
}
