import { createHmac } from 'node:crypto';
import { canonicalJsonWithout } from './canonical-json.js';

/**
 * One audit record: a flat JSON object, one per line of an audit file. The
 * writer adds `seq`, `time` (unless the event brings its own), `prev` and
 * `mac`; everything else is the event's. The gateway's fields are `user`,
 * `database`, `class`, `objects` (string array), `address`, `outcome` (command
 * tag or SQLSTATE) and `statement`.
 */
export interface AuditRecord {
  seq: number;
  time: string;
  code: number;
  event: string;
  [key: string]: unknown;
}

/** A record as it is stored: chained to its predecessor by `prev` and sealed by `mac`. */
export interface SealedAuditRecord extends AuditRecord {
  /** The previous record's `mac` (GENESIS_MAC for seq 1). */
  prev: string;
  /** base64url(HMAC-SHA-256(key, prev + '\n' + canonicalJson(record without mac))). */
  mac: string;
}

/** What a caller appends: the writer assigns seq, time, prev and mac. */
export interface AuditEvent {
  code: number;
  event: string;
  [key: string]: unknown;
}

/** The `prev` of the first record of a chain: base64url of 32 zero bytes. */
export const GENESIS_MAC = 'A'.repeat(43);

/** Events the audit log writes about itself (9xxx). */
export const AUDIT_LOG_EVENTS = {
  /** Files were removed by retention: `removedThroughSeq`, `lastRemovedMac`, `files`. */
  'audit.retention': 9001,
  /** Events were dropped because the disk could not keep up: `count`, `since`, `until`. */
  'audit.dropped': 9002,
} as const;

/** The MAC of a record (its own `mac` member, if any, is left out). */
export function recordMac(key: Buffer, record: Readonly<Record<string, unknown>>): string {
  const prev = typeof record.prev === 'string' ? record.prev : '';
  return createHmac('sha256', key)
    .update(prev)
    .update('\n')
    .update(canonicalJsonWithout(record, 'mac'))
    .digest('base64url');
}

/**
 * Parses one line of an audit file into a record with the chain fields
 * (`seq` a positive integer, `prev` and `mac` strings); undefined otherwise.
 */
export function parseAuditLine(text: string): SealedAuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (
    !Number.isSafeInteger(record.seq) ||
    (record.seq as number) < 1 ||
    typeof record.prev !== 'string' ||
    typeof record.mac !== 'string'
  ) {
    return undefined;
  }
  return record as SealedAuditRecord;
}
