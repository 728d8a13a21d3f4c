import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PgwardenError } from '../../errors.js';

/** The audit key is 32 random bytes (the HMAC-SHA-256 block-size guidance, RFC 2104). */
export const AUDIT_KEY_BYTES = 32;

const KEY_TEXT = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Loads the audit log's HMAC key, creating it first when the file does not
 * exist: 32 random bytes, base64, in a file of mode 0600 (its directory 0700).
 * The file is written in full and fsync'ed under a temporary name, then linked
 * into place, so a concurrent or crashed creator never leaves a half key and
 * two creators agree on one key. Keep the key outside the log directory: whoever
 * can read it can forge records.
 */
export function loadOrCreateAuditKey(file: string): Buffer {
  if (!exists(file)) createKey(file);
  return loadAuditKey(file);
}

/**
 * Loads an existing audit key; refuses (PGW_AUDIT_KEY_INVALID) a missing file,
 * one that group or others may access, or one that is not 32 base64 bytes.
 */
export function loadAuditKey(file: string): Buffer {
  let mode: number;
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw invalid(file, 'is not a regular file');
    mode = stat.mode & 0o777;
    text = readFileSync(file, 'utf8').trim();
  } catch (cause) {
    if (cause instanceof PgwardenError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new PgwardenError(
      'PGW_AUDIT_KEY_INVALID',
      code === 'ENOENT'
        ? `the audit key ${file} does not exist`
        : `cannot read the audit key ${file} (${code})`,
      {
        hint: 'restore the key file from a backup; without it the audit log cannot be verified',
        cause,
      },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new PgwardenError(
      'PGW_AUDIT_KEY_INVALID',
      `the audit key ${file} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')})`,
      {
        hint: `run chmod 600 ${file}; whoever read the key can forge audit records, so treat the log as suspect`,
      },
    );
  }
  if (!KEY_TEXT.test(text)) {
    throw invalid(file, `does not hold ${AUDIT_KEY_BYTES} base64-encoded bytes`);
  }
  return Buffer.from(text, 'base64');
}

function invalid(file: string, what: string): PgwardenError {
  return new PgwardenError('PGW_AUDIT_KEY_INVALID', `the audit key ${file} ${what}`, {
    hint: 'restore the key file from a backup; without it the audit log cannot be verified',
  });
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw invalid(file, `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function createKey(file: string): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(AUDIT_KEY_BYTES).toString('base64')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, file);
    } catch (cause) {
      // Another process created the key first: use theirs.
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
    }
    syncDir(dir);
  } catch (cause) {
    throw new PgwardenError(
      'PGW_AUDIT_KEY_INVALID',
      `cannot create the audit key ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { hint: 'fix the permissions of the data directory, or choose another --data-dir', cause },
    );
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already gone.
    }
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the key is still complete.
  }
}
