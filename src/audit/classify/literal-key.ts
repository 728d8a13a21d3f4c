/**
 * The shape of a statement without its constants: `UPDATE t SET a = 0 WHERE
 * id = 0` for every `UPDATE t SET a = <n> WHERE id = <m>`. Statements that
 * differ only in their constants classify alike (class, command tag and
 * objects never depend on a constant's value for plain DML), so the classifier
 * can cache by shape, and a simple-protocol workload with ever-changing
 * literals costs a scan instead of a parse per statement.
 *
 * A small scanner after PostgreSQL's lexical rules (docs 4.1, "Lexical
 * Structure"): quoted identifiers, comments (nested /* *\/), `$n`
 * parameters and identifiers are kept as written; string constants ('…',
 * E'…', B'…', X'…', N'…', $tag$…$tag$) become `''` and numeric constants
 * (with PostgreSQL 16's `_` separators and 0x/0o/0b prefixes) become `0`.
 * Whenever the text is not plainly one of those — a backslash in a plain
 * string (whose meaning depends on standard_conforming_strings), a U&
 * literal, an unterminated quote or comment, junk after a number — it gives
 * up (undefined) and the caller parses the statement itself.
 */
export function literalKey(sql: string): string | undefined {
  let key = '';
  let copied = 0;
  let i = 0;
  const n = sql.length;
  const literal = (start: number, end: number, placeholder: string): void => {
    key += sql.slice(copied, start) + placeholder;
    copied = end;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : -1;
    if (c === QUOTE) {
      const end = quotedEnd(sql, i + 1, false);
      if (end < 0) return undefined;
      literal(i, end, "''");
      i = end;
    } else if (next === QUOTE && (c === 0x45 || c === 0x65)) {
      const end = quotedEnd(sql, i + 2, true); // E'…': backslash escapes
      if (end < 0) return undefined;
      literal(i, end, "''");
      i = end;
    } else if (next === QUOTE && PREFIXED_STRING.has(c)) {
      const end = quotedEnd(sql, i + 2, false); // B'…', X'…', N'…'
      if (end < 0) return undefined;
      literal(i, end, "''");
      i = end;
    } else if ((c === 0x55 || c === 0x75) && next === 0x26) {
      return undefined; // U&'…' and U&"…" (with UESCAPE): rare, parse them
    } else if (c === DOUBLE_QUOTE) {
      const end = sql.indexOf('"', i + 1);
      if (end < 0) return undefined;
      i = end + 1; // "" inside a quoted identifier is two adjacent quoted parts: same result
    } else if (c === DASH && next === DASH) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === SLASH && next === STAR) {
      i = blockCommentEnd(sql, i);
      if (i < 0) return undefined;
    } else if (c === DOLLAR) {
      if (isDigit(next)) {
        i += 2;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        if (i < n && isIdentifierPart(sql.charCodeAt(i))) return undefined;
      } else {
        const end = dollarQuotedEnd(sql, i);
        if (end < 0) return undefined;
        literal(i, end, "''");
        i = end;
      }
    } else if (isDigit(c) || (c === DOT && isDigit(next))) {
      const end = numberEnd(sql, i);
      if (end < 0) return undefined;
      literal(i, end, '0');
      i = end;
    } else if (isIdentifierStart(c)) {
      i++;
      while (i < n && isIdentifierPart(sql.charCodeAt(i))) i++;
    } else {
      i++;
    }
  }
  return key + sql.slice(copied);
}

const QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const DOLLAR = 0x24;
const DOT = 0x2e;
const BACKSLASH = 0x5c;
/** B, b, X, x, N, n. */
const PREFIXED_STRING = new Set([0x42, 0x62, 0x58, 0x78, 0x4e, 0x6e]);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isIdentifierStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
}

function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || isDigit(c) || c === DOLLAR;
}

/** The index after the closing quote of a string whose body starts at `from`; -1 if unsure. */
function quotedEnd(sql: string, from: number, escapes: boolean): number {
  let i = from;
  for (;;) {
    const close = sql.indexOf("'", i);
    if (close < 0) return -1;
    const backslash = sql.indexOf('\\', i);
    if (backslash >= 0 && backslash < close) {
      if (!escapes) return -1; // its meaning depends on standard_conforming_strings
      i = backslash + 2;
      continue;
    }
    if (sql.charCodeAt(close + 1) === QUOTE) {
      i = close + 2; // '' is a quote inside the string
      continue;
    }
    return close + 1;
  }
}

/** The index after a (nested) block comment starting at `from`; -1 if unterminated. */
function blockCommentEnd(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === SLASH && sql.charCodeAt(i + 1) === STAR) {
      depth++;
      i += 2;
    } else if (sql.charCodeAt(i) === STAR && sql.charCodeAt(i + 1) === SLASH) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/y;

/** The index after a $tag$…$tag$ constant starting at `from`; -1 if it is not one. */
function dollarQuotedEnd(sql: string, from: number): number {
  DOLLAR_TAG.lastIndex = from;
  const match = DOLLAR_TAG.exec(sql);
  if (match === null) return -1;
  const close = sql.indexOf(match[0], from + match[0].length);
  return close < 0 ? -1 : close + match[0].length;
}

const DECIMAL = /(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?/y;
const PREFIXED_INTEGER = /0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/y;

/** The index after a numeric constant at `from`; -1 when junk follows it (PostgreSQL 15+ rejects that). */
function numberEnd(sql: string, from: number): number {
  PREFIXED_INTEGER.lastIndex = from;
  let match = PREFIXED_INTEGER.exec(sql);
  if (match === null) {
    DECIMAL.lastIndex = from;
    match = DECIMAL.exec(sql);
  }
  if (match === null) return -1;
  const end = from + match[0].length;
  const after = end < sql.length ? sql.charCodeAt(end) : -1;
  if (isIdentifierPart(after) || after === DOT || after === BACKSLASH) return -1;
  return end;
}
