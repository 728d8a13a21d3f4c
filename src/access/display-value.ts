const MAX_LENGTH = 64;
const MAX_ITEMS = 8;

/** C0, DEL, C1, U+2028/9 and bidi controls: characters that could forge a line or reorder what a reader sees. */
export const UNSAFE_CHARACTERS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const ESCAPED = new RegExp(`[\\\\"]|${UNSAFE_CHARACTERS.source}`, 'g');

/**
 * A value quoted for an explanation line. Role names, group claims and
 * application_name come from clients and IdPs and end up in audit records and
 * terminals: control, line-separator and bidi characters are escaped and long
 * values cut, so a value can neither forge a line nor hide what surrounds it.
 */
export function displayValue(value: string): string {
  const chars = Array.from(value);
  const cut = chars.length > MAX_LENGTH ? `${chars.slice(0, MAX_LENGTH).join('')}…` : value;
  const escaped = cut.replace(ESCAPED, (c) =>
    c === '\\' || c === '"'
      ? `\\${c}`
      : `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"`;
}

/** `["a", "b", … 3 more]`, with plain (unquoted) entries when `quote` is false. */
export function displayList(values: readonly string[], quote = true): string {
  const shown = values.slice(0, MAX_ITEMS).map((v) => (quote ? displayValue(v) : v));
  if (values.length > MAX_ITEMS) shown.push(`… ${values.length - MAX_ITEMS} more`);
  return `[${shown.join(', ')}]`;
}
