import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ScramError } from './scram-error.js';

/** SASL mechanism names (RFC 7677 section 3; RFC 5802 section 4 for "-PLUS"). */
export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
export const SCRAM_SHA_256_PLUS = 'SCRAM-SHA-256-PLUS';

/** Length of SHA-256 outputs: ClientKey, StoredKey, ServerKey, proofs, signatures. */
export const SCRAM_KEY_LENGTH = 32;

/** Random bytes in a nonce, as PostgreSQL (SCRAM_RAW_NONCE_LEN). */
const NONCE_BYTES = 18;

/** PostgreSQL's bound on a SASL message (PG_MAX_AUTH_TOKEN_LENGTH). */
const MAX_MESSAGE_BYTES = 65535;

export function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** A fresh nonce: 18 random bytes in base64, printable and comma-free (RFC 5802 section 7). */
export function randomNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64');
}

/** RFC 5802 section 7: printable = %x21-2B / %x2D-7E (printable ASCII except ","). */
export function isPrintable(text: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(text);
}

/** RFC 5802 section 7 base64 (padded); Buffer.from would silently skip bad characters. */
export function isBase64(text: string): boolean {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a SASL message: valid UTF-8, no NUL, bounded (RFC 5802 section 7: UTF-8). */
export function decodeMessage(data: Buffer, what: string): string {
  if (data.length === 0 || data.length > MAX_MESSAGE_BYTES) {
    throw new ScramError('malformed', `${what} is empty or too long`);
  }
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new ScramError('malformed', `${what} is not valid UTF-8`);
  }
  if (text.includes('\0')) throw new ScramError('malformed', `${what} contains a NUL byte`);
  return text;
}

export interface Attribute {
  readonly name: string;
  readonly value: string;
}

/** Splits "a=x,b=y" into attributes (RFC 5802 section 7: attr-val = ALPHA "=" value). */
export function parseAttributes(text: string, what: string): Attribute[] {
  return text.split(',').map((part) => {
    const match = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!match) throw new ScramError('malformed', `${what} has an invalid attribute`);
    return { name: match[1] ?? '', value: match[2] ?? '' };
  });
}

/**
 * Checks the optional trailing extensions of a message. RFC 5802 section 7
 * says unknown extensions MUST be ignored, but section 5.1 reserves "m":
 * its presence MUST make authentication fail.
 */
export function checkExtensions(extensions: readonly Attribute[], what: string): void {
  if (extensions.some((attribute) => attribute.name === 'm')) {
    throw new ScramError('malformed', `${what} requires an unsupported extension`);
  }
}

/** Decodes a base64 attribute that must hold a 32-byte value (proof or signature). */
export function decodeKey(value: string, what: string): Buffer {
  const decoded = isBase64(value) ? Buffer.from(value, 'base64') : undefined;
  if (decoded?.length !== SCRAM_KEY_LENGTH) {
    throw new ScramError('malformed', `${what} is not a base64 SHA-256 value`);
  }
  return decoded;
}
