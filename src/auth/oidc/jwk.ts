import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from './jws.js';
import { quoteUntrusted, TokenError } from './token-error.js';

/** A public key from a key set, bound to the one algorithm it may verify. */
export interface VerificationKey {
  readonly kid?: string;
  readonly alg: JwsAlgorithm;
  readonly key: KeyObject;
}

/** NIST SP 800-131A and RFC 7518 §3.3: RSA keys for RS256 must be at least 2048 bits. */
export const MIN_RSA_BITS = 2048;

/**
 * JWK members that only a private or symmetric key has (RFC 7518 §6.3.2,
 * §6.2.2, §6.4.1; RFC 8037 §2). A key set is public: one holding these means
 * the issuer's signing key has leaked.
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export function privateMembersOf(jwk: Readonly<Record<string, unknown>>): string[] {
  return PRIVATE_MEMBERS.filter((name) => Object.hasOwn(jwk, name));
}

/**
 * Imports one JWK (RFC 7517 §4) as a verification key. The algorithm comes
 * from the key type, never from the token: RSA -> RS256, EC P-256 -> ES256,
 * OKP Ed25519 -> EdDSA. Binding each key to one algorithm is what stops
 * algorithm confusion (a token choosing how our key is used). Throws
 * TokenError 'invalid-key' or 'weak-key'.
 */
export function importJwk(jwk: unknown): VerificationKey {
  if (!isRecord(jwk)) throw new TokenError('invalid-key', 'a JWK is not a JSON object');
  const kid = jwk.kid;
  if (kid !== undefined && typeof kid !== 'string')
    throw new TokenError('invalid-key', 'a JWK has a kid that is not a string');
  const label = kid === undefined ? 'the JWK without kid' : `JWK ${quoteUntrusted(kid)}`;
  const invalid = (why: string) => new TokenError('invalid-key', `${label} ${why}`);

  const secrets = privateMembersOf(jwk);
  if (secrets.length > 0) throw invalid(`holds private key members (${secrets.join(', ')})`);
  // RFC 7517 §4.2, §4.3: a key meant for encryption must not verify signatures.
  if (jwk.use !== undefined && jwk.use !== 'sig')
    throw invalid(`has use ${quoteUntrusted(jwk.use)}, not "sig"`);
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    throw invalid('has key_ops without "verify"');

  const alg = algorithmOf(jwk, invalid);
  if (jwk.alg !== undefined && jwk.alg !== alg)
    throw invalid(
      `declares alg ${quoteUntrusted(jwk.alg)}; pgwarden uses ${jwk.kty} keys for ${alg}`,
    );

  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicMembers(jwk, alg, invalid), format: 'jwk' });
  } catch (error) {
    if (error instanceof TokenError) throw error;
    // OpenSSL refuses, among others, EC points that are not on the curve.
    throw new TokenError('invalid-key', `${label} is not a valid ${jwk.kty} key`, { cause: error });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (alg === 'RS256' && bits < MIN_RSA_BITS)
    throw new TokenError(
      'weak-key',
      `${label} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`,
    );
  if (!keyFitsAlgorithm(alg, key)) throw invalid(`does not hold a ${alg} public key`);
  return kid === undefined ? { alg, key } : { kid, alg, key };
}

/**
 * Whether a key object can verify `alg` (RFC 7518 §3.3, §3.4; RFC 8037 §3.1).
 * Checked again at verification, so a hand-built VerificationKey cannot be
 * used with the wrong algorithm either.
 */
export function keyFitsAlgorithm(alg: JwsAlgorithm, key: KeyObject): boolean {
  if (key.type !== 'public') return false;
  const details = key.asymmetricKeyDetails;
  switch (alg) {
    case 'RS256':
      return key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS;
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
  }
}

function algorithmOf(
  jwk: Readonly<Record<string, unknown>>,
  invalid: (why: string) => TokenError,
): JwsAlgorithm {
  switch (jwk.kty) {
    case 'RSA':
      return 'RS256';
    case 'EC':
      if (jwk.crv === 'P-256') return 'ES256';
      throw invalid(`is on curve ${quoteUntrusted(jwk.crv)}; only P-256 is supported`);
    case 'OKP':
      if (jwk.crv === 'Ed25519') return 'EdDSA';
      throw invalid(`is on curve ${quoteUntrusted(jwk.crv)}; only Ed25519 is supported`);
    default:
      throw invalid(`has key type ${quoteUntrusted(jwk.kty)}; only RSA, EC and OKP are supported`);
  }
}

/** Only the public members go to OpenSSL, whatever else the JWK carries. */
function publicMembers(
  jwk: Readonly<Record<string, unknown>>,
  alg: JwsAlgorithm,
  invalid: (why: string) => TokenError,
): JsonWebKey {
  const names = alg === 'RS256' ? ['n', 'e'] : alg === 'ES256' ? ['crv', 'x', 'y'] : ['crv', 'x'];
  const members: JsonWebKey = { kty: jwk.kty as string };
  for (const name of names) {
    const value = jwk[name];
    if (typeof value !== 'string' || value === '') throw invalid(`has no "${name}" member`);
    members[name] = value;
  }
  return members;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
