import { importJwk, privateMembersOf, type VerificationKey } from './jwk.js';
import { quoteUntrusted, TokenError, type TokenErrorReason } from './token-error.js';

/** A key the set holds but would not import, kept so a token naming it gets the real reason. */
export interface RejectedKey {
  readonly kid: string | undefined;
  readonly reason: TokenErrorReason;
  readonly message: string;
}

/** The keys of one JWK Set document, usable and set aside. */
export interface KeySet {
  readonly keys: readonly VerificationKey[];
  readonly rejected: readonly RejectedKey[];
}

/**
 * Imports every usable key of a JWK Set (RFC 7517 §5). Keys that cannot be
 * used are set aside with their reason, so one odd key (an encryption key,
 * an unsupported curve) does not take the others down. A set publishing
 * private key material is refused whole: its issuer's keys are compromised.
 */
export function parseKeySet(document: unknown): KeySet {
  if (!isRecord(document) || !Array.isArray(document.keys))
    throw new TokenError('jwks-invalid', 'the key set is not a JSON object with a "keys" array');
  const keys: VerificationKey[] = [];
  const rejected: RejectedKey[] = [];
  for (const entry of document.keys) {
    const kid = isRecord(entry) && typeof entry.kid === 'string' ? entry.kid : undefined;
    if (isRecord(entry) && privateMembersOf(entry).length > 0)
      throw new TokenError(
        'jwks-invalid',
        `the key set publishes private key material (key ${quoteUntrusted(kid ?? '')}); refusing all of it`,
      );
    try {
      const key = importJwk(entry);
      if (keys.some((other) => other.kid === key.kid && other.alg === key.alg))
        throw new TokenError('invalid-key', `JWK ${quoteUntrusted(kid ?? '')} appears twice`);
      keys.push(key);
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      rejected.push({ kid, reason: error.reason, message: error.message });
    }
  }
  return { keys, rejected };
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
