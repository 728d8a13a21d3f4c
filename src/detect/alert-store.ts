import type { Queryable } from '../control/gateway-settings/gateway-settings.js';
import { PgwardenError } from '../errors.js';
import type { AlertSubject, Evidence } from './alert-candidate.js';
import { type AlertSeverity, SEVERITIES } from './alert-catalog.js';

/**
 * Alerts in the state database (pgwarden.alerts, state migration 10): one row
 * per type and deduplication key while it is not resolved, with a count,
 * first and last seen, and who acknowledged or resolved it. The gateway
 * writes them (sinks/alert-store-sink.ts); the CLI reads and triages them.
 */
export const ALERT_STATUSES = ['new', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export interface StoredAlert {
  readonly id: number;
  /** A catalogue type (alert-catalog.ts); a string, as rows may come from another pgwarden version. */
  readonly type: string;
  readonly severity: AlertSeverity;
  readonly key: string;
  readonly status: AlertStatus;
  readonly summary: string;
  readonly subject: AlertSubject;
  readonly evidence: readonly Evidence[];
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: string | null;
  readonly resolvedBy: string | null;
  readonly resolvedAt: string | null;
}

export interface AlertRow {
  id: number;
  type: string;
  severity: AlertSeverity;
  dedup_key: string;
  status: AlertStatus;
  summary: string;
  subject: AlertSubject | null;
  evidence: Evidence[] | null;
  count: number;
  first_seen: Date;
  last_seen: Date;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  resolved_by: string | null;
  resolved_at: Date | null;
}

/** Ids and counts are bigint; as float8 they arrive as numbers (exact below 2^53). */
export const ALERT_COLUMNS = `id::float8 AS id, type, severity, dedup_key, status, summary, subject,
  evidence, count::float8 AS count, first_seen, last_seen, acknowledged_by, acknowledged_at,
  resolved_by, resolved_at`;

export function toStoredAlert(row: AlertRow): StoredAlert {
  return {
    id: row.id,
    type: row.type,
    severity: row.severity,
    key: row.dedup_key,
    status: row.status,
    summary: row.summary,
    subject: row.subject ?? {},
    evidence: Array.isArray(row.evidence) ? row.evidence : [],
    count: row.count,
    firstSeen: row.first_seen.toISOString(),
    lastSeen: row.last_seen.toISOString(),
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
  };
}

export interface AlertFilter {
  /** `open` is new and acknowledged; `all` includes resolved ones. */
  readonly status: AlertStatus | 'open' | 'all';
  /** A type (`brute-force.source`) or a family (`brute-force`). */
  readonly type?: string | undefined;
  /** This severity and above. */
  readonly minSeverity?: AlertSeverity | undefined;
  /** Seen (last) at or after this time. */
  readonly since?: Date | undefined;
  readonly limit?: number | undefined;
}

/** Alerts matching the filter, most recently seen first. */
export async function listAlerts(db: Queryable, filter: AlertFilter): Promise<StoredAlert[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.status === 'open') where.push(`status <> 'resolved'`);
  else if (filter.status !== 'all') where.push(`status = ${param(filter.status)}`);
  if (filter.type !== undefined) {
    where.push(
      `(type = ${param(filter.type)} OR pg_catalog.starts_with(type, ${param(`${filter.type}.`)}))`,
    );
  }
  if (filter.minSeverity !== undefined) {
    where.push(
      `severity = ANY(${param(SEVERITIES.slice(SEVERITIES.indexOf(filter.minSeverity)))})`,
    );
  }
  if (filter.since !== undefined) where.push(`last_seen >= ${param(filter.since)}`);
  const result = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM pgwarden.alerts
      ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
      ORDER BY last_seen DESC, id DESC
      ${filter.limit === undefined ? '' : `LIMIT ${param(filter.limit)}`}`,
    params,
  );
  return result.rows.map(toStoredAlert);
}

export async function readAlert(db: Queryable, id: number): Promise<StoredAlert> {
  const result = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM pgwarden.alerts WHERE id = $1`,
    [id],
  );
  const row = result.rows[0];
  if (row === undefined) throw notFound(id);
  return toStoredAlert(row);
}

/**
 * Marks a new alert acknowledged by `by`: someone is on it. It keeps
 * counting repeats. `changed` is false when it already was acknowledged.
 */
export async function acknowledgeAlert(
  db: Queryable,
  id: number,
  by: string,
): Promise<{ alert: StoredAlert; changed: boolean }> {
  const result = await db.query<AlertRow>(
    `UPDATE pgwarden.alerts SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = now()
      WHERE id = $1 AND status = 'new' RETURNING ${ALERT_COLUMNS}`,
    [id, by],
  );
  const row = result.rows[0];
  if (row !== undefined) return { alert: toStoredAlert(row), changed: true };
  const alert = await readAlert(db, id);
  if (alert.status === 'resolved') {
    throw new PgwardenError('PGW_ALERT_INVALID', `alert ${id} is resolved`, {
      hint: 'a resolved alert stays resolved; if it fires again, a new alert is opened',
    });
  }
  return { alert, changed: false };
}

/**
 * Marks an alert resolved by `by`. Its row then no longer takes repeats: the
 * same type and key firing again opens a new alert. `changed` is false when
 * it already was resolved.
 */
export async function resolveAlert(
  db: Queryable,
  id: number,
  by: string,
): Promise<{ alert: StoredAlert; changed: boolean }> {
  const result = await db.query<AlertRow>(
    `UPDATE pgwarden.alerts SET status = 'resolved', resolved_by = $2, resolved_at = now()
      WHERE id = $1 AND status <> 'resolved' RETURNING ${ALERT_COLUMNS}`,
    [id, by],
  );
  const row = result.rows[0];
  if (row !== undefined) return { alert: toStoredAlert(row), changed: true };
  return { alert: await readAlert(db, id), changed: false };
}

function notFound(id: number): PgwardenError {
  return new PgwardenError('PGW_ALERT_NOT_FOUND', `no alert has id ${id}`, {
    hint: 'pgwarden alerts list --status all lists the alerts and their ids',
  });
}
