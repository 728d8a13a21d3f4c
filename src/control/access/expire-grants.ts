import type pg from 'pg';
import { quoteIdent } from '../sql/quote.js';
import { inTransaction } from './in-transaction.js';
import { recordJitEvent } from './jit-events.js';
import { roleByOid } from './jit-role-check.js';
import { lockGrantPair } from './lock-grant-pair.js';

export interface ExpiredGrant {
  readonly id: number;
  readonly requester: string;
  readonly role: string;
  /** Whether the membership was revoked (not when it predates the grant or another grant still holds it). */
  readonly revoked: boolean;
  /** Sessions of the requester ended so that none keeps the role by an earlier SET ROLE. */
  readonly sessionsEnded: number;
}

interface DueRow {
  id: number;
  requester: string;
  requester_oid: number;
  role: string;
  role_oid: number;
  preexisting: boolean;
  decided_by: string;
  reason: string;
  expires_at: Date;
}

/**
 * Ends every grant past its expiry, one transaction each, and returns them.
 * A grant that fails (reported through `onError`) is left for the next sweep
 * and does not hold up the others.
 */
export async function expireDueGrants(
  client: pg.ClientBase,
  onError: (id: number, error: unknown) => void,
): Promise<ExpiredGrant[]> {
  const expired: ExpiredGrant[] = [];
  const failed: number[] = [];
  for (;;) {
    const current: { id?: number } = {};
    try {
      const done = await expireNextGrant(client, failed, (due) => {
        current.id = due;
      });
      if (done === undefined) return expired;
      expired.push(done);
    } catch (error) {
      if (current.id === undefined) throw error; // not even a row: the connection is gone
      failed.push(current.id);
      onError(current.id, error);
    }
  }
}

/**
 * Expires the next due grant. The row is locked FOR UPDATE SKIP LOCKED, so a
 * sweep never waits for (or races) an approval or another sweep holding it;
 * the pair lock makes "is another grant still holding the role?" and the
 * approval's "is the role held already?" see each other's commits.
 */
async function expireNextGrant(
  client: pg.ClientBase,
  skip: readonly number[],
  onRow: (id: number) => void,
): Promise<ExpiredGrant | undefined> {
  const sessions = await inTransaction(client, async () => {
    const due = await client.query<DueRow>(
      `SELECT id::float8 AS id, requester, requester_oid::int8::float8 AS requester_oid,
              role, role_oid::int8::float8 AS role_oid, preexisting, decided_by, reason, expires_at
         FROM pgwarden.access_requests
        WHERE status = 'granted' AND expires_at <= now() AND id <> ALL($1::bigint[])
        ORDER BY expires_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [skip],
    );
    const row = due.rows[0];
    if (row === undefined) return undefined;
    onRow(row.id);
    await lockGrantPair(client, row.requester_oid, row.role_oid);
    const requester = await roleByOid(client, row.requester_oid);
    const role = await roleByOid(client, row.role_oid);
    const others = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgwarden.access_requests
        WHERE requester_oid = $1::oid AND role_oid = $2::oid AND id <> $3 AND status = 'granted'
          AND NOT preexisting AND expires_at > now()`,
      [row.requester_oid, row.role_oid, row.id],
    );
    const stillHeld = (others.rows[0]?.n ?? 0) > 0;
    const revoke = !row.preexisting && !stillHeld && requester !== undefined && role !== undefined;
    let ended = 0;
    if (revoke) {
      await client.query(`REVOKE ${quoteIdent(role.name)} FROM ${quoteIdent(requester.name)}`);
      // A session that ran SET ROLE keeps the role until it resets it: end them all.
      ended = await terminateSessions(client, row.requester_oid);
    }
    await client.query(
      `UPDATE pgwarden.access_requests
          SET status = 'expired', revoked_at = CASE WHEN $2 THEN now() END WHERE id = $1`,
      [row.id, revoke],
    );
    const why = row.preexisting
      ? 'kept: held before the grant'
      : stillHeld
        ? 'kept: another grant still holds it'
        : !revoke
          ? 'the role or the user was dropped'
          : `revoked; ${ended} session${ended === 1 ? '' : 's'} of ${row.requester} ended`;
    await recordJitEvent(client, {
      event: 'access.expired',
      requestId: row.id,
      actor: row.requester,
      detail: `request ${row.id}: role ${row.role} of ${row.requester} expired (${why})`,
      access: {
        requester: row.requester,
        role: row.role,
        approver: row.decided_by,
        reason: row.reason,
        expiresAt: row.expires_at.toISOString(),
        revoked: revoke,
        sessionsEnded: ended,
      },
    });
    return {
      grant: {
        id: row.id,
        requester: row.requester,
        role: row.role,
        revoked: revoke,
        sessionsEnded: ended,
      },
      requesterOid: row.requester_oid,
    };
  });
  if (sessions === undefined) return undefined;
  // Ending sessions is no transaction: end any that slipped in before the commit, too.
  if (sessions.grant.revoked) await terminateSessions(client, sessions.requesterOid);
  return sessions.grant;
}

async function terminateSessions(client: pg.ClientBase, userOid: number): Promise<number> {
  const result = await client.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid))::int AS n
       FROM pg_catalog.pg_stat_activity
      WHERE usesysid = $1::oid AND pid <> pg_catalog.pg_backend_pid()`,
    [userOid],
  );
  return result.rows[0]?.n ?? 0;
}
