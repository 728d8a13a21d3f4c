import { randomInt } from 'node:crypto';

/** Shortest marker: shorter values turn up by chance in unrelated rows. */
export const MIN_MARKER_LENGTH = 8;
/** Longest marker: keeps the gateway's automaton small (see MAX_HONEYTOKENS). */
export const MAX_MARKER_LENGTH = 64;
/** Fewest distinct characters: rules out '00000000', dates and the like. */
const MIN_DISTINCT_CHARACTERS = 5;

/**
 * Printable ASCII without `\` and `"`. ASCII is encoded the same in every
 * client_encoding PostgreSQL offers, so a client cannot hide a marker by
 * switching encodings; `\` and `"` are the characters COPY (text and CSV) and
 * record output rewrite, so the marker's bytes reach the client unchanged.
 */
const MARKER_CHARACTERS = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

/** Why `value` cannot be a marker, or undefined when it can. */
export function markerProblem(value: string): string | undefined {
  if (value.length < MIN_MARKER_LENGTH) return `shorter than ${MIN_MARKER_LENGTH} characters`;
  if (value.length > MAX_MARKER_LENGTH) return `longer than ${MAX_MARKER_LENGTH} characters`;
  if (!MARKER_CHARACTERS.test(value)) {
    return 'not only printable ASCII characters (and no \\ or ")';
  }
  if (value.trim() !== value) return 'starts or ends with a space';
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS) {
    return `fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters`;
  }
  return undefined;
}

const RANDOM_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** 16 characters of 36: 82 bits, so a planted marker never collides with real data. */
const RANDOM_LENGTH = 16;
export const RANDOM_PLACEHOLDER = '{random}';

/**
 * A fresh marker for a planted row: `format` with `{random}` replaced by 16
 * random letters and digits (e.g. `{random}@example.com` for an email
 * column, so the fake row looks like the real ones and passes their checks).
 * The format carries no pgwarden prefix: a recognisable marker could be
 * filtered out by an attacker who knows the product.
 */
export function generateMarker(format = RANDOM_PLACEHOLDER): string {
  const random = Array.from(
    { length: RANDOM_LENGTH },
    () => RANDOM_ALPHABET[randomInt(RANDOM_ALPHABET.length)],
  ).join('');
  return format.replace(RANDOM_PLACEHOLDER, random);
}

/** Why `format` cannot make markers, or undefined when it can. */
export function markerFormatProblem(format: string): string | undefined {
  if (format.split(RANDOM_PLACEHOLDER).length !== 2) {
    return `must contain ${RANDOM_PLACEHOLDER} exactly once`;
  }
  const problem = markerProblem(generateMarker(format));
  return problem === undefined ? undefined : `makes markers ${problem}`;
}
