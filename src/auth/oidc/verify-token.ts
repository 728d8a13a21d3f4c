import { PgwardenError } from '../../errors.js';
import type { VerificationKey } from './jwk.js';
import { type JwsAlgorithm, type JwsHeader, parseJsonObject, parseJws, verifyJws } from './jws.js';
import { type JwtClaims, validateClaims } from './jwt-claims.js';

/** Where keys come from; JwksSource is one. */
export interface KeyResolver {
  getKey(header: Pick<JwsHeader, 'alg' | 'kid'>): Promise<VerificationKey>;
}

export interface VerifyAccessTokenOptions {
  /** The `iss` the token must carry, exactly (RFC 7519 §4.1.1). */
  readonly issuer: string;
  /** The token's `aud` must name one of these (RFC 7519 §4.1.3). */
  readonly audience: string | readonly string[];
  readonly keys: KeyResolver;
  /** Narrows the algorithms accepted; default RS256, ES256 and EdDSA. */
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Tolerance for clock differences with the issuer, both ways. Default 60. */
  readonly clockSkewSeconds?: number;
  /** Claims that must be present (not null) besides iss, aud and exp. */
  readonly requiredClaims?: readonly string[];
  /** Refuse tokens whose exp - iat (or exp - now, without iat) exceeds this. */
  readonly maxLifetimeSeconds?: number;
  /** Clock in milliseconds. Default Date.now. */
  readonly now?: () => number;
}

export interface VerifiedToken {
  readonly claims: JwtClaims;
  readonly header: JwsHeader;
  /** exp in milliseconds, without skew: when a session authenticated by it should end. */
  readonly expiresAt: number;
}

export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/**
 * Verifies an OAuth 2.0 access token in JWT form, as used for "token as
 * password" logins. Order matters: header policy, key selection, signature,
 * and only then are the claims read (RFC 7519 §7.2). Throws TokenError with
 * a stable `reason`; throws PgwardenError PGW_CONFIG_INVALID for bad options.
 */
export async function verifyAccessToken(
  token: string,
  options: VerifyAccessTokenOptions,
): Promise<VerifiedToken> {
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  checkOptions(options, audiences, clockSkewSeconds);

  const jws = parseJws(token, options.algorithms);
  const key = await options.keys.getKey(jws.header);
  verifyJws(jws, key);
  const payload = parseJsonObject(jws.payload, 'claims set');
  const nowSeconds = (options.now ?? Date.now)() / 1000;
  const claims = validateClaims(
    payload,
    {
      issuer: options.issuer,
      audiences,
      clockSkewSeconds,
      requiredClaims: options.requiredClaims ?? [],
      maxLifetimeSeconds: options.maxLifetimeSeconds,
    },
    nowSeconds,
  );
  return { claims, header: jws.header, expiresAt: claims.exp * 1000 };
}

function checkOptions(
  options: VerifyAccessTokenOptions,
  audiences: readonly string[],
  clockSkewSeconds: number,
): void {
  const invalid = (why: string) =>
    new PgwardenError('PGW_CONFIG_INVALID', `Token verification options: ${why}.`, {
      hint: 'Set the issuer and audience from the identity provider configuration.',
    });
  if (typeof options.issuer !== 'string' || options.issuer === '')
    throw invalid('the issuer is empty');
  if (
    audiences.length === 0 ||
    audiences.some((value) => typeof value !== 'string' || value === '')
  )
    throw invalid('the audience is empty');
  if (!Number.isFinite(clockSkewSeconds) || clockSkewSeconds < 0)
    throw invalid('clockSkewSeconds must be a number of seconds, 0 or more');
  const max = options.maxLifetimeSeconds;
  if (max !== undefined && (!Number.isFinite(max) || max <= 0))
    throw invalid('maxLifetimeSeconds must be a positive number of seconds');
  if (options.algorithms !== undefined && options.algorithms.length === 0)
    throw invalid('the list of algorithms is empty');
}
