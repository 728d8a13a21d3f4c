import { SCRAM_ITERATIONS } from '../../auth/scram-secret.js';
import { hmac, isBase64, SCRAM_KEY_LENGTH } from './scram-common.js';

/**
 * A SCRAM-SHA-256 verifier as PostgreSQL stores it in pg_authid.rolpassword
 * (RFC 5802 section 3: the server keeps salt, i, StoredKey and ServerKey).
 */
export interface ScramVerifier {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const VERIFIER = /^SCRAM-SHA-256\$([1-9][0-9]{0,9}):([^$:]+)\$([^$:]+):([^$:]+)$/;

/**
 * Parses `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (the
 * format of PostgreSQL's parse_scram_secret, all three values base64).
 * Returns undefined for md5 or plain passwords, NULL-ish input and anything
 * malformed; the caller then authenticates against mockScramVerifier so the
 * client cannot tell (PostgreSQL does the same for non-SCRAM secrets).
 */
export function parseScramVerifier(text: string): ScramVerifier | undefined {
  const match = VERIFIER.exec(text);
  if (!match) return undefined;
  const [, iterationsText = '', saltText = '', storedText = '', serverText = ''] = match;
  const iterations = Number(iterationsText);
  if (iterations > 0x7fffffff) return undefined; // PostgreSQL keeps it in an int
  if (!isBase64(saltText) || !isBase64(storedText) || !isBase64(serverText)) return undefined;
  const salt = Buffer.from(saltText, 'base64');
  const storedKey = Buffer.from(storedText, 'base64');
  const serverKey = Buffer.from(serverText, 'base64');
  if (salt.length === 0) return undefined;
  if (storedKey.length !== SCRAM_KEY_LENGTH || serverKey.length !== SCRAM_KEY_LENGTH) {
    return undefined;
  }
  return { iterations, salt, storedKey, serverKey };
}

/** Salt length of verifiers PostgreSQL creates (SCRAM_DEFAULT_SALT_LEN). */
const MOCK_SALT_LENGTH = 16;

/**
 * A deterministic, plausible verifier for a role that does not exist or has
 * no SCRAM secret, after PostgreSQL's scram_mock_salt: the same user always
 * gets the same salt and iteration count, so probing twice reveals nothing,
 * and the exchange fails at the proof exactly like a wrong password (no one
 * knows a preimage of the mock StoredKey). `serverSecret` must be a stable
 * per-installation secret of at least 16 bytes; `iterations` should match
 * the server's scram_iterations so real and mock challenges look alike.
 */
export function mockScramVerifier(
  username: string,
  serverSecret: Buffer,
  iterations: number = SCRAM_ITERATIONS,
): ScramVerifier {
  if (serverSecret.length < 16) {
    throw new RangeError('the mock verifier secret must be at least 16 bytes');
  }
  const derive = (label: string) => hmac(serverSecret, Buffer.from(label + username, 'utf8'));
  return {
    iterations,
    salt: derive('salt').subarray(0, MOCK_SALT_LENGTH),
    storedKey: derive('stored key'),
    serverKey: derive('server key'),
  };
}
