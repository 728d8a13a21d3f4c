/**
 * Keeps secrets out of the audit log.
 *
 * A parsed statement is sensitive when its parse tree says it carries a
 * secret: a role's password (CREATE/ALTER ROLE|USER|GROUP … [ENCRYPTED]
 * PASSWORD), a subscription's connection string, the OPTIONS of a user mapping
 * or a foreign server. Whatever other string constants the statement holds,
 * every one of them (found by PostgreSQL's own scanner, so quoting, `''`,
 * `E'\''` and `$tag$…$tag$` are read exactly as the server reads them) is
 * replaced by `'<redacted>'`. As a safety net, a statement is also sensitive
 * when one of its string constants looks like it embeds a password
 * (`'host=h password=pw'` given to dblink, `PASSWORD ''x''` inside a DO or
 * function body).
 *
 * SQL the parser rejects is never executed, but it still reaches the audit
 * log, so it is redacted conservatively: every quoted literal is replaced by a
 * small lexer that errs towards redacting too much (an unterminated literal
 * runs to the end), and if the text mentions PASSWORD, CONNECTION or OPTIONS
 * everything after the first such word is dropped as well — this also covers
 * a password typed without quotes.
 *
 * Nothing here throws.
 */

import type { ScanToken } from 'libpg-query';
import type { PgNode, RawStatement } from './pg-parser.js';
import {
  byteToCharIndex,
  isParsableText,
  parseStatements,
  scanTokens,
  unwrapNode,
} from './pg-parser.js';

export const REDACTED_LITERAL = "'<redacted>'";
export const REDACTED_REST = '<redacted>';

export interface Redaction {
  readonly redactedText: string;
  readonly sensitive: boolean;
}

function hasOptions(body: PgNode): boolean {
  return Array.isArray(body.options) && body.options.length > 0;
}

function hasPasswordOption(body: PgNode): boolean {
  const options = body.options;
  if (!Array.isArray(options)) return false;
  return options.some((option) => {
    const defElem = unwrapNode(option);
    return defElem !== undefined && defElem[1].defname === 'password';
  });
}

/** Whether the parse tree says the statement carries a secret in a string constant. */
export function isSensitiveStatement(nodeType: string, body: PgNode): boolean {
  switch (nodeType) {
    case 'CreateRoleStmt':
    case 'AlterRoleStmt':
      return hasPasswordOption(body);
    case 'CreateSubscriptionStmt':
    case 'AlterSubscriptionStmt':
      return typeof body.conninfo === 'string';
    case 'CreateUserMappingStmt':
    case 'AlterUserMappingStmt':
    case 'CreateForeignServerStmt':
    case 'AlterForeignServerStmt':
      return hasOptions(body);
    default:
      return false;
  }
}

const DOLLAR_QUOTE_START = /^\$(?:[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/;
const QUOTE_START = /^(?:[EeBbXxNn]|[Uu]&)?'/;

/** Whether a token's text is a string constant ('…', E'…', U&'…', B'…', X'…', $tag$…$tag$). */
export function isStringLiteralToken(tokenText: string): boolean {
  return QUOTE_START.test(tokenText) || DOLLAR_QUOTE_START.test(tokenText);
}

/** A password inside a string constant: `password=pw` (libpq), `PASSWORD 'x'` (nested SQL). */
const EMBEDDED_PASSWORD = /password\s*=|password\s+(?:[Ee]?'|\$)/i;

interface LiteralSpan {
  readonly start: number;
  readonly end: number;
}

/** The string constants among `tokens`, as character ranges of `sql`. */
function literalSpans(sql: string, tokens: readonly ScanToken[]): LiteralSpan[] {
  const toChar = byteToCharIndex(sql);
  const spans: LiteralSpan[] = [];
  for (const token of tokens) {
    const start = toChar(token.start);
    const end = toChar(token.end);
    if (end > start && isStringLiteralToken(sql.slice(start, end))) spans.push({ start, end });
  }
  return spans;
}

function replaceSpans(sql: string, spans: readonly LiteralSpan[]): string {
  let out = '';
  let last = 0;
  for (const span of spans) {
    if (span.start < last) continue;
    out += sql.slice(last, span.start) + REDACTED_LITERAL;
    last = span.end;
  }
  return out + sql.slice(last);
}

/**
 * Replaces every string constant of `sql` by `'<redacted>'`. `tokens` are
 * the scanner's tokens of exactly this text (byte offsets); without them, or
 * if the scanner fails, the conservative lexer is used.
 */
export function redactStringLiterals(sql: string, tokens?: readonly ScanToken[]): string {
  try {
    const scanned = tokens ?? scanTokens(sql);
    if (scanned === undefined) return redactQuotedLiterals(sql);
    return replaceSpans(sql, literalSpans(sql, scanned));
  } catch {
    return redactQuotedLiterals(sql);
  }
}

/**
 * Redaction of one parsed statement: `text` is the statement's own text,
 * `tokens` (optional) its tokens with byte offsets relative to `text`.
 */
export function redactStatement(
  text: string,
  nodeType: string,
  body: PgNode,
  tokens?: readonly ScanToken[],
): Redaction {
  try {
    if (isSensitiveStatement(nodeType, body)) {
      return { redactedText: redactStringLiterals(text, tokens), sensitive: true };
    }
    if (!/password/i.test(text)) return { redactedText: text, sensitive: false };
    const scanned = tokens ?? scanTokens(text);
    if (scanned === undefined) return { redactedText: redactUnparsable(text), sensitive: true };
    const spans = literalSpans(text, scanned);
    if (!spans.some((span) => EMBEDDED_PASSWORD.test(text.slice(span.start, span.end)))) {
      return { redactedText: text, sensitive: false };
    }
    return { redactedText: replaceSpans(text, spans), sensitive: true };
  } catch {
    return { redactedText: redactUnparsable(text), sensitive: true };
  }
}

const SENSITIVE_WORD = /\b(?:password|connection|options)\b/i;

/** Whether text the parser rejected looks like it may carry a secret. */
export function looksSensitive(sql: string): boolean {
  return SENSITIVE_WORD.test(sql);
}

/**
 * Conservative redaction of SQL the parser rejected: every quoted literal
 * replaced and, if the text looks sensitive, everything after the first
 * PASSWORD / CONNECTION / OPTIONS dropped.
 */
export function redactUnparsable(sql: string): string {
  try {
    const redacted = redactQuotedLiterals(sql);
    const match = SENSITIVE_WORD.exec(redacted);
    if (match === null) return redacted;
    const cut = match.index + match[0].length;
    return cut >= redacted.length ? redacted : `${redacted.slice(0, cut)} ${REDACTED_REST}`;
  } catch {
    return REDACTED_REST;
  }
}

function isIdentChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x5f || // _
    code === 0x24 || // $
    code >= 0x80
  );
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/y;

/** Index just past the `'` closing a literal whose body starts at `from`, or the end of `sql`. */
function quotedLiteralEnd(sql: string, from: number, backslashEscapes: boolean): number {
  for (let i = from; i < sql.length; i++) {
    const code = sql.charCodeAt(i);
    if (backslashEscapes && code === 0x5c) {
      i++; // skip the escaped character
    } else if (code === 0x27) {
      if (sql.charCodeAt(i + 1) === 0x27)
        i++; // '' is a quote inside the literal
      else return i + 1;
    }
  }
  return sql.length;
}

/**
 * Replaces every single-quoted and dollar-quoted literal of `sql` by
 * `'<redacted>'`, with a lexer that follows PostgreSQL's (standard conforming
 * strings, E'' escapes, comments, quoted identifiers) but redacts to the end
 * when a literal or block comment is not terminated.
 */
export function redactQuotedLiterals(sql: string): string {
  let out = '';
  let last = 0;
  let i = 0;
  const n = sql.length;
  const redact = (start: number, end: number): void => {
    out += sql.slice(last, start) + REDACTED_LITERAL;
    last = end;
    i = end;
  };
  while (i < n) {
    const code = sql.charCodeAt(i);
    const next = sql.charCodeAt(i + 1);
    if (code === 0x2d && next === 0x2d) {
      // -- comment to end of line
      const newline = sql.indexOf('\n', i);
      i = newline < 0 ? n : newline + 1;
    } else if (code === 0x2f && next === 0x2a) {
      // /* block comment */, nested as in PostgreSQL
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql.charCodeAt(j) === 0x2f && sql.charCodeAt(j + 1) === 0x2a) {
          depth++;
          j += 2;
        } else if (sql.charCodeAt(j) === 0x2a && sql.charCodeAt(j + 1) === 0x2f) {
          depth--;
          j += 2;
        } else j++;
      }
      if (depth > 0) {
        out += `${sql.slice(last, i)}/* ${REDACTED_REST}`;
        last = n;
        i = n;
      } else i = j;
    } else if (code === 0x22) {
      // "quoted identifier"
      let j = i + 1;
      while (j < n) {
        if (sql.charCodeAt(j) === 0x22) {
          if (sql.charCodeAt(j + 1) === 0x22) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (code === 0x27) {
      const prev = sql.charCodeAt(i - 1);
      const escapes =
        (prev === 0x45 || prev === 0x65) && !(i >= 2 && isIdentChar(sql.charCodeAt(i - 2)));
      redact(i, quotedLiteralEnd(sql, i + 1, escapes));
    } else if (code === 0x24 && !(i > 0 && isIdentChar(sql.charCodeAt(i - 1)))) {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql);
      if (tag === null) i++;
      else {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        redact(i, close < 0 ? n : close + tag[0].length);
      }
    } else if (isIdentChar(code)) {
      // skip a whole word so that `a$b$` is not taken for a dollar quote
      let j = i + 1;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      i = j;
    } else i++;
  }
  return out + sql.slice(last);
}

function redactParsed(
  sql: string,
  statements: readonly RawStatement[],
  tokens: readonly ScanToken[] | undefined,
): string {
  const toChar = byteToCharIndex(sql);
  let out = '';
  let last = 0;
  for (const statement of statements) {
    const start = toChar(statement.byteStart);
    const end = statement.byteEnd === undefined ? sql.length : toChar(statement.byteEnd);
    const text = sql.slice(start, end);
    const byteEnd = statement.byteEnd ?? Number.POSITIVE_INFINITY;
    const own = tokens
      ?.filter((t) => t.start >= statement.byteStart && t.end <= byteEnd)
      .map((t) => ({
        ...t,
        start: t.start - statement.byteStart,
        end: t.end - statement.byteStart,
      }));
    const { redactedText, sensitive } = redactStatement(text, statement.type, statement.body, own);
    if (!sensitive) continue;
    out += sql.slice(last, start) + redactedText;
    last = end;
  }
  return out + sql.slice(last);
}

/**
 * `sql` (one statement or several) with its secrets redacted; see the module
 * comment. `tokens`, if given, are the scanner's tokens of `sql` (byte
 * offsets), saving a scan. Needs the parser loaded (loadSqlParser()) to be
 * precise; without it every literal is redacted. Never throws.
 */
export function redactSql(sql: string, tokens?: readonly ScanToken[]): string {
  try {
    if (!isParsableText(sql)) return redactUnparsable(sql);
    if (sql.trim() === '') return sql;
    const statements = parseStatements(sql);
    if (statements === undefined) return redactUnparsable(sql);
    return redactParsed(sql, statements, tokens);
  } catch {
    return redactUnparsable(sql);
  }
}
