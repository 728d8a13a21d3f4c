import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { quoteIdent } from '../sql/quote.js';
import { inTransaction } from './in-transaction.js';
import { readApproverRole } from './jit-approver-role.js';
import { parseJitDuration } from './jit-duration.js';
import { recordJitEvent } from './jit-events.js';
import {
  type AccessRequest,
  REQUEST_COLUMNS,
  type RequestRow,
  toRequest,
} from './jit-request-rows.js';
import { checkGrantableRole, findRole, type RoleRef, roleByOid } from './jit-role-check.js';
import { lockGrantPair } from './lock-grant-pair.js';

/**
 * Just-in-time access requests (ADR 12): a user asks for a role for a while,
 * a member of the approver role approves or denies, and an approval grants the
 * role until it expires (the gateway's sweeper revokes it). Every step is
 * written with its security event in one transaction. Callers pass the users
 * they verified by a login through the gateway: these functions trust them.
 */
export interface NewAccessRequest {
  /** The requester, verified. */
  readonly requester: string;
  readonly role: string;
  readonly duration: string;
  readonly reason: string;
}

const MAX_REASON = 500;

export async function createAccessRequest(
  client: pg.ClientBase,
  input: NewAccessRequest,
): Promise<AccessRequest> {
  const minutes = parseJitDuration(input.duration);
  const reason = checkReason(input.reason, '--reason');
  if (reason === undefined) {
    throw invalid('a request needs --reason', 'say why you need the role, e.g. a ticket number');
  }
  return inTransaction(client, async () => {
    const requester = await verifiedRole(client, input.requester);
    const role = await checkGrantableRole(
      client,
      input.role,
      requester,
      await readApproverRole(client),
    );
    const pending = await client.query<{ id: number }>(
      `SELECT id::float8 AS id FROM pgwarden.access_requests
        WHERE requester_oid = $1::oid AND role_oid = $2::oid AND status = 'pending'`,
      [requester.oid, role.oid],
    );
    const open = pending.rows[0];
    if (open !== undefined) {
      throw invalid(
        `request ${open.id} of "${requester.name}" for role "${role.name}" is already pending`,
        'wait for an approver to decide it (pgwarden access requests lists it)',
      );
    }
    const inserted = await client.query<RequestRow>(
      `INSERT INTO pgwarden.access_requests
         (requester, requester_oid, role, role_oid, duration_minutes, reason)
       VALUES ($1, $2::oid, $3, $4::oid, $5, $6) RETURNING ${REQUEST_COLUMNS}`,
      [requester.name, requester.oid, role.name, role.oid, minutes, reason],
    );
    const request = toRequest(inserted.rows[0] as RequestRow);
    await recordJitEvent(client, {
      event: 'access.requested',
      requestId: request.id,
      actor: request.requester,
      detail: `request ${request.id}: ${request.requester} asks for role ${request.role} for ${request.duration}`,
      access: {
        requester: request.requester,
        role: request.role,
        duration: request.duration,
        reason: request.reason,
      },
    });
    return request;
  });
}

/**
 * Approves a pending request and grants the role until now + its duration.
 * A requester who already holds the role directly (other than by another
 * active grant of this kind) gets nothing granted, so expiry revokes nothing.
 */
export async function approveAccessRequest(
  client: pg.ClientBase,
  id: number,
  approver: string,
): Promise<AccessRequest> {
  return inTransaction(client, async () => {
    const { row, approverRole } = await pendingForDecision(client, id, approver);
    const requester = await roleByOid(client, row.requester_oid);
    const current = await roleByOid(client, row.role_oid);
    if (requester === undefined || current === undefined) {
      throw invalid(
        `request ${id}: role "${requester === undefined ? row.requester : row.role}" was dropped since the request`,
        `deny it with pgwarden access deny ${id}`,
      );
    }
    // The role may have changed since it was requested: check it again.
    const role = await checkGrantableRole(client, current.name, requester, approverRole);
    await lockGrantPair(client, requester.oid, role.oid);
    const held = await client.query<{ direct: boolean; active: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members
                       WHERE roleid = $2::oid AND member = $1::oid) AS direct,
              EXISTS (SELECT 1 FROM pgwarden.access_requests
                       WHERE requester_oid = $1::oid AND role_oid = $2::oid AND status = 'granted'
                         AND NOT preexisting AND expires_at > now()) AS active`,
      [requester.oid, role.oid],
    );
    const { direct, active } = held.rows[0] as { direct: boolean; active: boolean };
    if (!direct)
      await client.query(`GRANT ${quoteIdent(role.name)} TO ${quoteIdent(requester.name)}`);
    const updated = await client.query<RequestRow>(
      `UPDATE pgwarden.access_requests
          SET status = 'granted', decided_by = $2, decided_at = now(), granted_at = now(),
              expires_at = now() + make_interval(mins => duration_minutes), preexisting = $3
        WHERE id = $1 RETURNING ${REQUEST_COLUMNS}`,
      [id, approver, direct && !active],
    );
    const request = toRequest(updated.rows[0] as RequestRow);
    const fields = {
      requester: request.requester,
      role: request.role,
      approver,
      duration: request.duration,
      reason: request.reason,
    };
    await recordJitEvent(client, {
      event: 'access.approved',
      requestId: id,
      actor: approver,
      detail: `request ${id}: ${approver} approved role ${request.role} for ${request.requester} for ${request.duration}`,
      access: fields,
    });
    await recordJitEvent(client, {
      event: 'access.granted',
      requestId: id,
      actor: request.requester,
      detail: request.preexisting
        ? `request ${id}: ${request.requester} already held role ${request.role}; nothing granted, nothing will be revoked`
        : `request ${id}: role ${request.role} granted to ${request.requester} until ${request.expiresAt}`,
      access: {
        ...fields,
        grantedAt: request.grantedAt,
        expiresAt: request.expiresAt,
        preexisting: request.preexisting,
      },
    });
    return request;
  });
}

/** Denies a pending request, optionally saying why. */
export async function denyAccessRequest(
  client: pg.ClientBase,
  id: number,
  approver: string,
  reason: string | undefined,
): Promise<AccessRequest> {
  const decisionReason = checkReason(reason, '--reason') ?? null;
  return inTransaction(client, async () => {
    await pendingForDecision(client, id, approver);
    const updated = await client.query<RequestRow>(
      `UPDATE pgwarden.access_requests
          SET status = 'denied', decided_by = $2, decided_at = now(), decision_reason = $3
        WHERE id = $1 RETURNING ${REQUEST_COLUMNS}`,
      [id, approver, decisionReason],
    );
    const request = toRequest(updated.rows[0] as RequestRow);
    await recordJitEvent(client, {
      event: 'access.denied-request',
      requestId: id,
      actor: approver,
      detail: `request ${id}: ${approver} denied role ${request.role} to ${request.requester}`,
      access: {
        requester: request.requester,
        role: request.role,
        approver,
        duration: request.duration,
        reason: request.reason,
        decisionReason,
      },
    });
    return request;
  });
}

/**
 * Locks request `id` and checks `approver` may decide it: an approver role
 * is set, the approver is a member of it, is not the requester, and the
 * request is still pending.
 */
async function pendingForDecision(
  client: pg.ClientBase,
  id: number,
  approver: string,
): Promise<{ row: RequestRow; approverRole: string }> {
  const locked = await client.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM pgwarden.access_requests WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const row = locked.rows[0];
  if (row === undefined) {
    throw new PgwardenError('PGW_JIT_NOT_FOUND', `no access request has id ${id}`, {
      hint: 'pgwarden access requests lists the requests',
    });
  }
  const approverRole = await readApproverRole(client);
  if (approverRole === null) {
    throw refused(
      'no approver role is set, so nobody can approve or deny requests',
      'set one with pgwarden access approvers --role R, and grant R to the people who approve',
    );
  }
  const group = await findRole(client, approverRole);
  if (group === undefined) {
    throw refused(
      `the approver role "${approverRole}" no longer exists`,
      'set another with pgwarden access approvers --role R',
    );
  }
  const self = await verifiedRole(client, approver);
  if (self.oid === row.requester_oid) {
    throw refused(
      `"${approver}" made request ${id} and cannot decide it`,
      `another member of "${approverRole}" approves or denies it`,
    );
  }
  const member = await client.query<{ member: boolean }>(
    `SELECT pg_catalog.pg_has_role($1::oid, $2::oid, 'MEMBER') AS member`,
    [self.oid, group.oid],
  );
  if (member.rows[0]?.member !== true) {
    throw refused(
      `"${approver}" is not a member of the approver role "${approverRole}"`,
      `a member of "${approverRole}" approves or denies requests`,
    );
  }
  if (row.status !== 'pending') {
    throw new PgwardenError('PGW_JIT_REQUEST_CLOSED', `request ${id} is already ${row.status}`, {
      hint: 'the requester makes a new request with pgwarden access request',
    });
  }
  return { row, approverRole };
}

/** A user the caller verified, as the catalogue knows it now. */
async function verifiedRole(client: Queryable, name: string): Promise<RoleRef> {
  const role = await findRole(client, name);
  if (role === undefined) {
    throw new PgwardenError('PGW_JIT_LOGIN_FAILED', `role "${name}" no longer exists`, {
      hint: 'log in as an existing role',
    });
  }
  return role;
}

/** A reason is one line of 1-500 characters; undefined when none is given. */
function checkReason(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const reason = value.trim();
  if (reason === '' || reason.length > MAX_REASON) {
    throw invalid(
      `${flag} needs 1 to ${MAX_REASON} characters`,
      'say why in a sentence, e.g. a ticket number',
    );
  }
  if (/\p{Cc}/u.test(reason)) {
    throw invalid(`${flag} must be one line without control characters`, 'say why in a sentence');
  }
  return reason;
}

function invalid(message: string, hint: string): PgwardenError {
  return new PgwardenError('PGW_JIT_INVALID', message, { hint });
}

function refused(message: string, hint: string): PgwardenError {
  return new PgwardenError('PGW_JIT_APPROVAL_REFUSED', message, { hint });
}
