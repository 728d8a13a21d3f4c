/**
 * Whether a Query or Parse text may hold a statement the guard refuses, by
 * a cheap look at its words before any parsing. Every statement the guard
 * refuses begins with one of these keywords: GRANT / REVOKE (role
 * membership), CREATE / ALTER / DROP (ROLE, USER, GROUP, ALTER ROLE … SET and
 * RENAME; CREATE FUNCTION and PROCEDURE, whose bodies may hold the others),
 * and DO. SQL keywords cannot be written with escapes or split by comments,
 * so a statement with none of these words in its text needs no parse. The
 * match is case-insensitive and whole-word (`created_at` does not match);
 * `DO NOTHING` and `DO UPDATE` (INSERT … ON CONFLICT, a hot path) do not
 * count, as neither can begin a DO block. False positives only cost a parse.
 */
const KEYWORDS = /\b(?:grant|revoke|create|alter|drop)\b|\bdo\b(?!\s*(?:nothing|update)\b)/i;

export function mayNeedInspection(text: string): boolean {
  return KEYWORDS.test(text);
}

/** Bytes looked at per step: a 100 MB statement is never turned into one string to be skipped. */
const SLICE = 1 << 20;
/** Each slice repeats the end of the one before, so no keyword (and its word boundary) is cut. */
const OVERLAP = 16;

/**
 * mayNeedInspection on the raw bytes of a message. They are read as latin1
 * (one character per byte): every ASCII keyword stays where it is whatever
 * the client_encoding, and a multibyte character never joins two words.
 */
export function mayNeedInspectionBytes(bytes: Buffer): boolean {
  for (let start = 0; start < bytes.length; start += SLICE - OVERLAP) {
    if (KEYWORDS.test(bytes.toString('latin1', start, Math.min(bytes.length, start + SLICE)))) {
      return true;
    }
    if (start + SLICE >= bytes.length) break;
  }
  return false;
}
