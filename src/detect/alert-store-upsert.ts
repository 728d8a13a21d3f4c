import type { Queryable } from '../control/gateway-settings/gateway-settings.js';
import type { Evidence } from './alert-candidate.js';
import { ALERT_COLUMNS, type AlertRow, type StoredAlert, toStoredAlert } from './alert-store.js';
import { mergeEvidence } from './alert-store-evidence.js';
import type { RaisedAlert } from './raised-alert.js';

/** Raises of one alert (type and key) not written yet: the latest raise, how many, when, their evidence. */
export interface PendingAlert {
  readonly alert: RaisedAlert;
  readonly times: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly evidence: readonly Evidence[];
}

export function pendingAlert(alert: RaisedAlert): PendingAlert {
  return {
    alert,
    times: 1,
    firstSeen: alert.raisedAt,
    lastSeen: alert.raisedAt,
    evidence: mergeEvidence([], alert.evidence),
  };
}

/** Two batches of raises of the same alert as one; `older` came first. */
export function combinePending(older: PendingAlert, newer: PendingAlert): PendingAlert {
  return {
    alert: newer.alert,
    times: older.times + newer.times,
    firstSeen: older.firstSeen < newer.firstSeen ? older.firstSeen : newer.firstSeen,
    lastSeen: older.lastSeen > newer.lastSeen ? older.lastSeen : newer.lastSeen,
    evidence: mergeEvidence(older.evidence, newer.evidence),
  };
}

/** The longest deduplication key the table takes (its CHECK constraint). */
const MAX_KEY = 500;
/** Rounds of read-then-write lost to other gateways before giving up for this flush. */
const MAX_ROUNDS = 8;

/**
 * Writes raises into the alert they belong to: a new row when no alert of
 * that type and key is open, otherwise count, last seen, summary and merged
 * evidence on the open one (acknowledged alerts keep counting). Several
 * gateways may share the state database: the insert leans on the partial
 * unique index `alerts_open`, and the update only applies while the count
 * it read is still the count (every write adds to it), else it reads again.
 * Single statements, no transaction: the pool is shared with logins.
 */
export async function upsertAlert(
  db: Queryable,
  pending: PendingAlert,
): Promise<{ alert: StoredAlert; opened: boolean }> {
  const { alert } = pending;
  const key = Array.from(alert.key).slice(0, MAX_KEY).join('');
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const open = await db.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM pgwarden.alerts
        WHERE type = $1 AND dedup_key = $2 AND status <> 'resolved'`,
      [alert.type, key],
    );
    const row = open.rows[0];
    if (row === undefined) {
      const inserted = await db.query<AlertRow>(
        `INSERT INTO pgwarden.alerts
           (type, severity, dedup_key, summary, subject, evidence, count, first_seen, last_seen)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9)
         ON CONFLICT (type, dedup_key) WHERE status <> 'resolved' DO NOTHING
         RETURNING ${ALERT_COLUMNS}`,
        [
          alert.type,
          alert.severity,
          key,
          withoutNul(alert.summary),
          jsonText(alert.subject),
          jsonText(pending.evidence),
          pending.times,
          pending.firstSeen,
          pending.lastSeen,
        ],
      );
      const created = inserted.rows[0];
      if (created !== undefined) return { alert: toStoredAlert(created), opened: true };
      continue; // another gateway opened it in between: count into that one
    }
    const current = toStoredAlert(row);
    const updated = await db.query<AlertRow>(
      `UPDATE pgwarden.alerts
          SET count = count + $3, last_seen = GREATEST(last_seen, $4::timestamptz),
              summary = $5, evidence = $6::jsonb
        WHERE id = $1 AND count = $2 AND status <> 'resolved'
        RETURNING ${ALERT_COLUMNS}`,
      [
        current.id,
        current.count,
        pending.times,
        pending.lastSeen,
        withoutNul(alert.summary),
        jsonText(mergeEvidence(current.evidence, pending.evidence)),
      ],
    );
    const saved = updated.rows[0];
    if (saved !== undefined) return { alert: toStoredAlert(saved), opened: false };
    // Counted by another gateway, or resolved, in between: read it again.
  }
  throw new Error(`alert ${alert.type} changed concurrently ${MAX_ROUNDS} times`);
}

/** PostgreSQL text and jsonb take no NUL character: it becomes U+FFFD. */
function withoutNul(text: string): string {
  return text.replaceAll('\0', '\uFFFD');
}

function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? withoutNul(v) : v));
}
