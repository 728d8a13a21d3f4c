import type pg from 'pg';
import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { inTransaction } from './in-transaction.js';

/** The steps of just-in-time access that become security events (codes 3201-3206). */
export type JitEventName =
  | 'access.requested'
  | 'access.approved'
  | 'access.denied-request'
  | 'access.granted'
  | 'access.expired'
  | 'access.approver-role-set'
  /** Not a JIT step, but the same outbox: `pgwarden access apply` (3301). */
  | 'access.spec-applied';

export type JitFields = Readonly<Record<string, string | number | boolean | null>>;

export interface JitEvent {
  readonly event: JitEventName;
  readonly requestId: number | null;
  /** Who acted: the requester, the approver, or the requester again at expiry. */
  readonly actor: string;
  /** One line for people. */
  readonly detail: string;
  /** The fields a SIEM keys on: request, requester, role, approver, reason, times. Never a secret. */
  readonly access: JitFields;
}

/** A JitEvent as the gateway's security event sink takes it. */
export interface JitSecurityEvent {
  readonly event: JitEventName;
  readonly address: string;
  readonly user: string;
  readonly detail: string;
  readonly access: JitFields;
}

/**
 * Writes a step to the outbox, in the caller's transaction: the step and its
 * event commit together or not at all. The CLI is a short-lived process that
 * cannot append to the gateway's chained audit log, so the gateway's sweeper
 * drains the outbox into it (drainJitEvents), including steps taken while no
 * gateway ran.
 */
export async function recordJitEvent(client: Queryable, event: JitEvent): Promise<void> {
  await client.query(
    `INSERT INTO pgwarden.access_events (event, request_id, actor, detail, access)
     VALUES ($1, $2, $3, $4, $5)`,
    [event.event, event.requestId, event.actor, event.detail, JSON.stringify(event.access)],
  );
}

/**
 * Hands unrecorded events to `record`, oldest first, and marks them recorded.
 * At least once: a crash between the two records an event again.
 * Returns how many were handed on.
 */
export async function drainJitEvents(
  client: pg.ClientBase,
  record: (event: JitSecurityEvent) => void,
  limit = 200,
): Promise<number> {
  return inTransaction(client, async () => {
    const rows = await client.query<{
      id: string;
      event: JitEventName;
      request_id: string | null;
      actor: string;
      detail: string;
      access: Record<string, string | number | boolean | null>;
      occurred_at: Date;
    }>(
      `SELECT id, event, request_id, actor, detail, access, occurred_at
         FROM pgwarden.access_events WHERE recorded_at IS NULL
        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    for (const row of rows.rows) {
      record({
        event: row.event,
        // Steps are taken by the CLI on this host, or by the gateway itself at expiry.
        address: 'local',
        user: row.actor,
        detail: row.detail,
        access: {
          ...row.access,
          request: row.request_id === null ? null : Number(row.request_id),
          occurredAt: row.occurred_at.toISOString(),
        },
      });
    }
    if (rows.rows.length > 0) {
      await client.query(
        'UPDATE pgwarden.access_events SET recorded_at = now() WHERE id = ANY($1::bigint[])',
        [rows.rows.map((row) => row.id)],
      );
    }
    return rows.rows.length;
  });
}
