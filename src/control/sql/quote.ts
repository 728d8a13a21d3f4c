/** Quotes an SQL identifier (PostgreSQL docs 4.1.1: double quotes, doubled inside). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new TypeError('identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Quotes an SQL string literal (docs 4.1.2.1). Uses the E'' form when the value
 * holds a backslash so the result is right whatever standard_conforming_strings says.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new TypeError('literal contains a NUL byte');
  const body = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}
