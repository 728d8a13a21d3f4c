/**
 * Why an access token (or the key set that should verify it) was refused.
 * Each reason is a stable code an audit log or a SIEM can rely on; the table
 * is repeated in docs/identity.md and a test keeps the two in step.
 */
export const TOKEN_ERROR_REASONS = {
  malformed:
    'The token is not a JWS compact serialization of a JSON header and a JSON claims object, or is longer than 16 KiB.',
  'alg-none': 'The token is unsigned (`alg` is `none`).',
  'alg-symmetric':
    'The token is signed with a shared-secret algorithm (HS256, HS384, HS512), which an issuer key set cannot verify.',
  'alg-not-allowed':
    'The token algorithm is not RS256, ES256 or EdDSA, or not one the caller allows.',
  'crit-unsupported': 'The header lists critical extensions (`crit`); pgwarden implements none.',
  'embedded-key':
    'The header carries a key or where to fetch one (`jwk`, `jku`, `x5c`, `x5u`); keys come only from the configured key set.',
  'unknown-kid': 'No key in the key set has the token `kid`, even after a refresh.',
  'kid-required':
    'The token has no `kid` and the key set does not hold exactly one key for its algorithm.',
  'key-mismatch': 'The key named by the token `kid` is not of the type its algorithm needs.',
  'invalid-key':
    'The key is not usable for verification: unsupported type or curve, `use` not `sig`, `key_ops` without `verify`, a conflicting `alg`, or private key members.',
  'weak-key': 'The RSA key is shorter than 2048 bits.',
  'jwks-invalid':
    'The key set is not a JSON object with a `keys` array, is too large, or publishes private key material.',
  'jwks-unavailable': 'No key set could be loaded, and no earlier one is held.',
  'bad-signature': 'The signature does not verify with the key.',
  'wrong-issuer': 'The `iss` claim is not the configured issuer.',
  'wrong-audience': 'The `aud` claim does not name a configured audience.',
  expired: 'The token expired (`exp`), beyond the allowed clock skew.',
  'not-yet-valid':
    'The token is not valid yet (`nbf` or `iat` in the future), beyond the allowed clock skew.',
  'missing-claim': 'A required claim is absent.',
  'invalid-claim':
    'A claim has the wrong type (`exp`, `nbf`, `iat` not numbers; `iss`, `sub` not strings; `aud` not a string or array of strings).',
  'lifetime-too-long': 'The token lives longer than the configured maximum lifetime.',
} as const;

export type TokenErrorReason = keyof typeof TOKEN_ERROR_REASONS;

/**
 * A refused token. The message is meant for the audit log: it never holds
 * the token, its signature or key material. Values the token chose (kid,
 * iss, aud) appear only through `quoteUntrusted`, so they cannot forge log
 * lines. Clients should see only a vague 28P01, never this message.
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly reason: TokenErrorReason;

  constructor(reason: TokenErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

export function isTokenError(value: unknown): value is TokenError {
  return value instanceof TokenError;
}

/**
 * A value chosen by the token's author, made safe for a log line: printable
 * ASCII only, at most 64 characters, JSON-quoted.
 */
export function quoteUntrusted(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > 64 ? `${printable.slice(0, 61)}...` : printable);
}
