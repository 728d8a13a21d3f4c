import { timingSafeEqual } from 'node:crypto';
import { saslprep } from '../gateway/auth/saslprep.js';
import { sha256 } from '../gateway/auth/scram-common.js';
import { parseScramVerifier, type ScramVerifier } from '../gateway/auth/scram-verifier.js';
import { scramKeys } from './scram-secret.js';

/**
 * The SCRAM keys of `password` if it is the password behind `verifier`: the
 * proof is recomputed with the verifier's salt and iteration count, and
 * StoredKey and ServerKey are compared in constant time (RFC 5802 section 3:
 * StoredKey = H(ClientKey)). The password is SASLprep'ed first, as PostgreSQL
 * does; when SASLprep refuses it, the raw text is used, as PostgreSQL does.
 */
export function verifierKeys(
  password: string,
  verifier: ScramVerifier,
): { clientKey: Buffer; serverKey: Buffer } | undefined {
  let prepared: string;
  try {
    prepared = saslprep(password);
  } catch {
    prepared = password;
  }
  const keys = scramKeys(prepared, verifier.salt, verifier.iterations);
  const stored = sha256(keys.clientKey);
  const match =
    stored.length === verifier.storedKey.length &&
    timingSafeEqual(stored, verifier.storedKey) &&
    keys.serverKey.length === verifier.serverKey.length &&
    timingSafeEqual(keys.serverKey, verifier.serverKey);
  return match ? keys : undefined;
}

/** Whether `password` is behind a stored verifier text; md5 or malformed text never matches. */
export function matchesScramVerifier(password: string, verifier: string): boolean {
  const parsed = parseScramVerifier(verifier);
  return parsed !== undefined && verifierKeys(password, parsed) !== undefined;
}
