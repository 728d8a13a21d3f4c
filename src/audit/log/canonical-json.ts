/**
 * Canonical JSON: the exact text JSON.stringify would produce for a value,
 * except that object keys are sorted (by UTF-16 code units, recursively) and
 * nothing is indented. It follows JSON.stringify's rules for everything else
 * (toJSON, undefined/function/symbol members dropped, non-finite numbers as
 * null, ES number formatting, BigInt and cycles refused), so
 * `canonicalJson(JSON.parse(JSON.stringify(v))) === canonicalJson(v)`: a record
 * MACed before it is written verifies after it is read back. For JSON-safe
 * values this is the JSON Canonicalization Scheme (RFC 8785).
 */
export function canonicalJson(value: unknown): string {
  return canonicalJsonWithout(value, undefined);
}

/** canonicalJson of an object without one of its top-level members (e.g. a record without its MAC). */
export function canonicalJsonWithout(value: unknown, omit: string | undefined): string {
  const text = serialize(value, '', 0, omit);
  if (text === undefined) throw new TypeError('the value has no JSON representation');
  return text;
}

/** Member names repeat from record to record: quote each once (up to a bound). */
const quotedNames = new Map<string, string>();

function quotedName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = JSON.stringify(name);
    if (quotedNames.size < 10_000) quotedNames.set(name, quoted);
  }
  return quoted;
}

/** Deeper than any record; reaching it means a cycle (or a structure no record has). */
const MAX_DEPTH = 1000;

function serialize(
  input: unknown,
  key: string,
  depth: number,
  omit: string | undefined,
): string | undefined {
  let value = input;
  if (typeof value === 'object' && value !== null) {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
    }
    if (value instanceof Number) value = Number(value);
    else if (value instanceof String) value = String(value);
    else if (value instanceof Boolean) value = value.valueOf();
  } else if (typeof value === 'bigint') {
    const toJSON = (value as unknown as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, key) as unknown;
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('a BigInt has no JSON representation');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  if (depth >= MAX_DEPTH) throw new TypeError('the value is cyclic or nested too deeply for JSON');
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      text += serialize(value[i], String(i), depth + 1, undefined) ?? 'null';
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const names = Object.keys(record).sort();
  let text = '{';
  let first = true;
  for (const name of names) {
    if (name === omit) continue;
    const member = serialize(record[name], name, depth + 1, undefined);
    if (member === undefined) continue;
    text += `${first ? '' : ','}${quotedName(name)}:${member}`;
    first = false;
  }
  return `${text}}`;
}
