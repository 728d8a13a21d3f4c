import { createHmac } from 'node:crypto';

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
  /** base64url(HMAC-SHA-256(key, the line's JSON text without its `mac` member)): see sealLine. */
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
  /**
   * On open, the log ended before the anchor said it did (records were cut off
   * the end, or lost in a crash): `anchorSeq`, `anchorTime`, `lastSeq`.
   */
  'audit.tail-missing': 9003,
  /** On open, the anchor was unreadable or did not verify with the key. */
  'audit.anchor-invalid': 9004,
} as const;

/** How every sealed line ends: `,"mac":"` + 43 base64url characters + `"}`. */
const MAC_HEAD = ',"mac":"';
const MAC_TAIL = '"}';
const MAC_LENGTH = 43;
const SEALED_SUFFIX_LENGTH = MAC_HEAD.length + MAC_LENGTH + MAC_TAIL.length;

/**
 * Seals a record's JSON text (an object whose last member is `prev`): the MAC
 * is base64url(HMAC-SHA-256(key, json)) over the exact bytes written, and the
 * line is that text with `"mac"` appended as its last member. MACing the
 * serialized text rather than a canonical re-serialization means the verifier
 * checks the bytes on disk as they are, and nothing has to agree on a JSON
 * canonical form (RFC 2104 HMAC, FIPS 180-4 SHA-256).
 */
export function sealLine(key: Buffer, json: string): { line: string; mac: string } {
  const mac = createHmac('sha256', key).update(json).digest('base64url');
  return { line: `${json.slice(0, -1)}${MAC_HEAD}${mac}${MAC_TAIL}`, mac };
}

/**
 * The MAC a sealed line should carry, recomputed from its text; undefined when
 * the line does not end the way sealLine ends it. Compare with the parsed
 * record's `mac` (JSON.parse keeps the last of duplicate members, which is the
 * sealed one).
 */
export function lineMac(key: Buffer, line: string): string | undefined {
  const at = line.length - SEALED_SUFFIX_LENGTH;
  if (at < 1 || !line.startsWith(MAC_HEAD, at) || !line.endsWith(MAC_TAIL)) return undefined;
  return createHmac('sha256', key)
    .update(`${line.slice(0, at)}}`)
    .digest('base64url');
}

/** Whether a line is sealed with this key: its text is unaltered since it was written. */
export function lineSealedBy(key: Buffer, line: string, record: SealedAuditRecord): boolean {
  return lineMac(key, line) === record.mac;
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
