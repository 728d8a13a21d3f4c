import { quoteUntrusted, TokenError } from './token-error.js';

/** The registered claims pgwarden relies on (RFC 7519 §4.1), after validation. */
export interface JwtClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  /** NumericDate: seconds since the epoch, possibly fractional (RFC 7519 §2). */
  readonly exp: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly sub?: string;
  readonly [name: string]: unknown;
}

export interface ClaimPolicy {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly clockSkewSeconds: number;
  readonly requiredClaims: readonly string[];
  readonly maxLifetimeSeconds: number | undefined;
}

/**
 * Validates a claims set whose signature has already been checked, at time
 * `nowSeconds`. Skew widens every time window by the same amount, both ways.
 * Throws TokenError 'missing-claim', 'invalid-claim', 'wrong-issuer',
 * 'wrong-audience', 'expired', 'not-yet-valid' or 'lifetime-too-long'.
 */
export function validateClaims(
  claims: Readonly<Record<string, unknown>>,
  policy: ClaimPolicy,
  nowSeconds: number,
): JwtClaims {
  const skew = policy.clockSkewSeconds;

  // §4.1.1: compared as case-sensitive strings, no normalisation (a trailing slash matters).
  const iss = stringClaim(claims, 'iss', true);
  if (iss !== policy.issuer)
    throw new TokenError(
      'wrong-issuer',
      `the token issuer ${quoteUntrusted(iss)} is not the configured issuer`,
    );

  // §4.1.3: one string, or an array of strings of which one must be ours.
  const aud = claims.aud;
  if (aud === undefined) throw missing('aud');
  const audiences = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(audiences) || !audiences.every((value) => typeof value === 'string'))
    throw invalid('aud', 'a string or an array of strings');
  if (!audiences.some((value) => policy.audiences.includes(value)))
    throw new TokenError(
      'wrong-audience',
      `the token audience ${quoteUntrusted(aud)} does not name a configured audience`,
    );

  // §4.1.4: required here, since a token that never expires could be replayed forever.
  const exp = numericDate(claims, 'exp', true);
  if (nowSeconds >= exp + skew)
    throw new TokenError('expired', `the token expired at ${isoTime(exp)} (clock skew ${skew} s)`);
  // §4.1.5
  const nbf = numericDate(claims, 'nbf', false);
  if (nbf !== undefined && nowSeconds < nbf - skew)
    throw new TokenError(
      'not-yet-valid',
      `the token is not valid before ${isoTime(nbf)} (clock skew ${skew} s)`,
    );
  // §4.1.6 sets no rule; an issue time in the future means a wrong clock or a forged token.
  const iat = numericDate(claims, 'iat', false);
  if (iat !== undefined && iat > nowSeconds + skew)
    throw new TokenError('not-yet-valid', `the token was issued in the future, at ${isoTime(iat)}`);
  // §4.1.2
  stringClaim(claims, 'sub', false);

  const max = policy.maxLifetimeSeconds;
  if (max !== undefined && exp - (iat ?? nowSeconds) > max)
    throw new TokenError(
      'lifetime-too-long',
      `the token lives ${Math.round(exp - (iat ?? nowSeconds))} s; at most ${max} s are accepted`,
    );

  for (const name of policy.requiredClaims)
    if (claims[name] === undefined || claims[name] === null) throw missing(name);
  return claims as JwtClaims;
}

function stringClaim(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: true,
): string;
function stringClaim(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: false,
): string | undefined;
function stringClaim(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: boolean,
): string | undefined {
  const value = claims[name];
  if (value === undefined) {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(name, 'a string');
  return value;
}

function numericDate(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: true,
): number;
function numericDate(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: false,
): number | undefined;
function numericDate(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: boolean,
): number | undefined {
  const value = claims[name];
  if (value === undefined) {
    if (required) throw missing(name);
    return undefined;
  }
  // JSON.parse turns 1e999 into Infinity: finite numbers only.
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'a NumericDate');
  return value;
}

function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds}` : date.toISOString();
}

function missing(name: string): TokenError {
  return new TokenError('missing-claim', `the token has no "${name}" claim`);
}

function invalid(name: string, what: string): TokenError {
  return new TokenError('invalid-claim', `the "${name}" claim is not ${what}`);
}
