import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default iteration count (scram_iterations, PostgreSQL 16+; fixed in 15). */
export const SCRAM_ITERATIONS = 4096;

/**
 * Computes the SCRAM-SHA-256 verifier PostgreSQL stores in pg_authid
 * (RFC 5802 section 3, RFC 7677; PostgreSQL docs 21.5 "Password Authentication"):
 *
 *   SaltedPassword = Hi(password, salt, i)       -- PBKDF2-HMAC-SHA-256
 *   StoredKey      = H(HMAC(SaltedPassword, "Client Key"))
 *   ServerKey      = HMAC(SaltedPassword, "Server Key")
 *   verifier       = SCRAM-SHA-256$<i>:<salt>$<StoredKey>:<ServerKey>
 *
 * Computing it here means the plaintext password never travels to the server,
 * where a statement log could catch it. The password must already be in
 * SASLprep form; callers pass printable ASCII, which SASLprep leaves unchanged.
 */
export function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations: number = SCRAM_ITERATIONS,
): string {
  const { clientKey, serverKey } = scramKeys(password, salt, iterations);
  const storedKey = createHash('sha256').update(clientKey).digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A random password of printable ASCII (base64url of 24 random bytes: 192 bits). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Admin passwords pgwarden accepts: 12-256 printable ASCII characters, no spaces at the ends. */
export function isAcceptablePassword(password: string): boolean {
  return /^[\x21-\x7e](?:[\x20-\x7e]{10,254})[\x21-\x7e]$/.test(password);
}

/**
 * ClientKey and ServerKey of a password (RFC 5802 section 3):
 * SaltedPassword = Hi(password, salt, i); ClientKey = HMAC(SaltedPassword,
 * "Client Key"); ServerKey = HMAC(SaltedPassword, "Server Key"). The password
 * must already be in SASLprep form.
 */
export function scramKeys(
  password: string,
  salt: Buffer,
  iterations: number,
): { clientKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  return {
    clientKey: createHmac('sha256', salted).update('Client Key').digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}
