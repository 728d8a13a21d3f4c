import { constants, type KeyObject, verify } from 'node:crypto';
import { keyFitsAlgorithm, type VerificationKey } from './jwk.js';
import { quoteUntrusted, TokenError } from './token-error.js';

/**
 * The signature algorithms pgwarden verifies: RS256 (RFC 7518 §3.3), ES256
 * (§3.4) and EdDSA with Ed25519 (RFC 8037 §3.1). All asymmetric: the gateway
 * holds only the issuer's public keys.
 */
export const JWS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** Longer tokens are refused before any decoding; real access tokens are 1-4 KiB. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface JwsHeader {
  readonly alg: JwsAlgorithm;
  readonly kid?: string;
  readonly typ?: string;
}

/** A JWS compact serialization taken apart, signature not yet checked. */
export interface ParsedJws {
  readonly header: JwsHeader;
  /** ASCII(BASE64URL(header) '.' BASE64URL(payload)): what the signature covers (RFC 7515 §5.2). */
  readonly signingInput: Buffer;
  readonly payload: Buffer;
  readonly signature: Buffer;
}

/**
 * Header parameters that carry a key, or say where to fetch one (RFC 7515
 * §4.1.2-4.1.6). Trusting them would let the token's author pick the key that
 * verifies it; their presence is refused rather than ignored.
 */
const EMBEDDED_KEY_HEADERS = ['jwk', 'jku', 'x5c', 'x5u'] as const;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a JWS compact serialization (RFC 7515 §7.1) and applies the header
 * policy. Throws TokenError: 'malformed', 'alg-none', 'alg-symmetric',
 * 'alg-not-allowed', 'embedded-key' or 'crit-unsupported'.
 */
export function parseJws(
  token: string,
  allowed: readonly JwsAlgorithm[] = JWS_ALGORITHMS,
): ParsedJws {
  if (typeof token !== 'string') throw malformed('the token is not a string');
  if (token.length > MAX_TOKEN_LENGTH)
    throw malformed(`the token is longer than ${MAX_TOKEN_LENGTH} characters`);
  const segments = token.split('.');
  // Five segments would be a JWE (RFC 7516 §7.1): encrypted, not signed.
  if (segments.length !== 3)
    throw malformed(`the token has ${segments.length} dot-separated segments, not 3`);
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = segments;
  const header = parseHeader(decodeSegment(encodedHeader, 'header'), allowed);
  const payload = decodeSegment(encodedPayload, 'payload');
  const signature = decodeSegment(encodedSignature, 'signature');
  if (signature.length === 0) throw malformed('the signature is empty');
  return {
    header,
    signingInput: Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'),
    payload,
    signature,
  };
}

/**
 * Checks the signature with `key`. The key must be bound to the header's
 * algorithm and be of the matching type: an RS256 token is never checked
 * with an EC key, nor an ES256 token with an RSA key. Throws TokenError
 * 'key-mismatch' or 'bad-signature'.
 */
export function verifyJws(jws: ParsedJws, key: VerificationKey): void {
  const { alg } = jws.header;
  const label = key.kid === undefined ? 'the key without kid' : `key ${quoteUntrusted(key.kid)}`;
  if (key.alg !== alg || !keyFitsAlgorithm(alg, key.key))
    throw new TokenError('key-mismatch', `${label} is for ${key.alg}; the token is ${alg}`);
  if (!signatureVerifies(alg, key.key, jws.signingInput, jws.signature))
    throw new TokenError('bad-signature', `the ${alg} signature does not verify with ${label}`);
}

function signatureVerifies(
  alg: JwsAlgorithm,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): boolean {
  try {
    switch (alg) {
      case 'RS256':
        return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'ES256':
        // RFC 7518 §3.4: R || S, 32 octets each, not DER.
        return (
          signature.length === 64 &&
          verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
        );
      case 'EdDSA':
        // RFC 8037 §3.1: Ed25519 signs the message itself; no prehash.
        return signature.length === 64 && verify(null, data, key, signature);
    }
  } catch {
    return false;
  }
}

function parseHeader(bytes: Buffer, allowed: readonly JwsAlgorithm[]): JwsHeader {
  const header = parseJsonObject(bytes, 'header');
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string') throw malformed('the header has no string "alg"');
  // Case-insensitive: "None" and "NONE" have slipped past libraries before.
  if (alg.toLowerCase() === 'none')
    throw new TokenError('alg-none', 'the token is unsigned (alg "none")');
  if (/^hs\d+$/i.test(alg))
    throw new TokenError(
      'alg-symmetric',
      `the token uses ${quoteUntrusted(alg)}, a shared-secret algorithm; only issuer public keys are trusted`,
    );
  if (!(JWS_ALGORITHMS as readonly string[]).includes(alg))
    throw new TokenError(
      'alg-not-allowed',
      `the algorithm ${quoteUntrusted(alg)} is not supported`,
    );
  if (!allowed.includes(alg as JwsAlgorithm))
    throw new TokenError('alg-not-allowed', `the algorithm ${alg} is not allowed for this issuer`);
  for (const name of EMBEDDED_KEY_HEADERS)
    if (Object.hasOwn(header, name))
      throw new TokenError(
        'embedded-key',
        `the header carries "${name}"; keys come only from the key set`,
      );
  // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject.
  if (Object.hasOwn(header, 'crit'))
    throw new TokenError('crit-unsupported', 'the header lists critical extensions ("crit")');
  if (kid !== undefined && typeof kid !== 'string')
    throw malformed('the header "kid" is not a string');
  if (typ !== undefined && typeof typ !== 'string')
    throw malformed('the header "typ" is not a string');
  return {
    alg: alg as JwsAlgorithm,
    ...(kid === undefined ? {} : { kid }),
    ...(typ === undefined ? {} : { typ }),
  };
}

/**
 * A segment in strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no
 * whitespace, no other alphabet, and canonical (unused trailing bits zero),
 * so one token has exactly one spelling.
 */
function decodeSegment(segment: string, name: string): Buffer {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1)
    throw malformed(`the ${name} segment is not base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment)
    throw malformed(`the ${name} segment is not canonical base64url`);
  return bytes;
}

/**
 * A UTF-8 JSON object, or 'malformed'. The parser's own error is dropped:
 * its message quotes the input.
 */
export function parseJsonObject(bytes: Buffer, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw malformed(`the ${name} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(`the ${name} is not a JSON object`);
  return value as Record<string, unknown>;
}

function malformed(message: string): TokenError {
  return new TokenError('malformed', message);
}
