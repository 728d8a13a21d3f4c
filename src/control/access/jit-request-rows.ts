import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { formatJitMinutes } from './jit-duration.js';

/** Just-in-time access requests as stored, and the listings of requests and grants in force. */
export type AccessRequestStatus = 'pending' | 'denied' | 'granted' | 'expired';

export interface AccessRequest {
  readonly id: number;
  readonly requester: string;
  readonly role: string;
  /** As given, normalised: `2h`, `1h30m`. */
  readonly duration: string;
  readonly durationMinutes: number;
  readonly reason: string;
  readonly status: AccessRequestStatus;
  readonly requestedAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly decisionReason: string | null;
  readonly grantedAt: string | null;
  readonly expiresAt: string | null;
  /** The requester held the role already: nothing was granted, nothing will be revoked. */
  readonly preexisting: boolean | null;
  readonly revokedAt: string | null;
}

export interface AccessGrant {
  readonly id: number;
  readonly user: string;
  readonly role: string;
  readonly approvedBy: string;
  readonly reason: string;
  readonly grantedAt: string;
  readonly expiresAt: string;
  /** 0 once expired and not yet swept (within seconds). */
  readonly secondsLeft: number;
  readonly preexisting: boolean;
}

/** A row of pgwarden.access_requests as REQUEST_COLUMNS selects it. */
export interface RequestRow {
  id: number;
  requester: string;
  requester_oid: number;
  role: string;
  role_oid: number;
  duration_minutes: number;
  reason: string;
  status: AccessRequestStatus;
  requested_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
  granted_at: Date | null;
  expires_at: Date | null;
  preexisting: boolean | null;
  revoked_at: Date | null;
}

export const REQUEST_COLUMNS = `id::float8 AS id, requester, requester_oid::int8::float8 AS requester_oid,
  role, role_oid::int8::float8 AS role_oid, duration_minutes, reason, status, requested_at,
  decided_by, decided_at, decision_reason, granted_at, expires_at, preexisting, revoked_at`;

export async function listAccessRequests(client: Queryable): Promise<AccessRequest[]> {
  const result = await client.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM pgwarden.access_requests ORDER BY id`,
  );
  return result.rows.map(toRequest);
}

/** Grants in force, soonest expiry first. */
export async function listActiveGrants(client: Queryable): Promise<AccessGrant[]> {
  const result = await client.query<{
    id: number;
    user: string;
    role: string;
    approvedBy: string;
    reason: string;
    grantedAt: Date;
    expiresAt: Date;
    secondsLeft: number;
    preexisting: boolean;
  }>(
    `SELECT id::float8 AS id, requester AS "user", role, decided_by AS "approvedBy", reason,
            granted_at AS "grantedAt", expires_at AS "expiresAt", preexisting,
            floor(greatest(0, extract(epoch FROM expires_at - now())))::float8 AS "secondsLeft"
       FROM pgwarden.access_requests WHERE status = 'granted' ORDER BY expires_at, id`,
  );
  return result.rows.map((row) => ({
    ...row,
    grantedAt: row.grantedAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
  }));
}

export function toRequest(row: RequestRow): AccessRequest {
  const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());
  return {
    id: row.id,
    requester: row.requester,
    role: row.role,
    duration: formatJitMinutes(row.duration_minutes),
    durationMinutes: row.duration_minutes,
    reason: row.reason,
    status: row.status,
    requestedAt: row.requested_at.toISOString(),
    decidedBy: row.decided_by,
    decidedAt: iso(row.decided_at),
    decisionReason: row.decision_reason,
    grantedAt: iso(row.granted_at),
    expiresAt: iso(row.expires_at),
    preexisting: row.preexisting,
    revokedAt: iso(row.revoked_at),
  };
}
