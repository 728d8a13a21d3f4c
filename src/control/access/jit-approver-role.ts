import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { inTransaction } from './in-transaction.js';
import { recordJitEvent } from './jit-events.js';
import { findRole } from './jit-role-check.js';

/** The gateway setting naming the role whose members approve just-in-time requests. */
export const APPROVER_ROLE_SETTING = 'access_approver_role';

/** The approver role, or null while none is set (then nobody can approve). */
export async function readApproverRole(client: Queryable): Promise<string | null> {
  const result = await client.query<{ value: string }>(
    'SELECT value FROM pgwarden.gateway_settings WHERE name = $1',
    [APPROVER_ROLE_SETTING],
  );
  return result.rows[0]?.value ?? null;
}

/**
 * Sets the approver role (null: unsets it). The role must exist and be an
 * ordinary one: superusers and internal roles never log in through the
 * gateway, so their members could not prove who they are.
 */
export async function setApproverRole(
  client: pg.ClientBase,
  role: string | null,
  changedBy: string,
): Promise<string | null> {
  if (role !== null) {
    const found = await findRole(client, role);
    if (found === undefined) {
      throw new PgwardenError('PGW_JIT_INVALID', `approver role "${role}" does not exist`, {
        hint: 'create it (CREATE ROLE approvers NOLOGIN) and grant it to the people who approve',
      });
    }
    const attributes = await client.query<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_catalog.pg_roles WHERE oid = $1::oid',
      [found.oid],
    );
    if (attributes.rows[0]?.rolsuper === true || /^(pgwarden_|pg_)/.test(role)) {
      throw new PgwardenError(
        'PGW_JIT_INVALID',
        `role "${role}" is a superuser or an internal role and cannot be the approver role`,
        { hint: 'use an ordinary group role, e.g. CREATE ROLE approvers NOLOGIN' },
      );
    }
  }
  return inTransaction(client, async () => {
    const previous = await readApproverRole(client);
    if (role === null) {
      await client.query('DELETE FROM pgwarden.gateway_settings WHERE name = $1', [
        APPROVER_ROLE_SETTING,
      ]);
    } else {
      await client.query(
        `INSERT INTO pgwarden.gateway_settings (name, value, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by`,
        [APPROVER_ROLE_SETTING, role, changedBy],
      );
    }
    await recordJitEvent(client, {
      event: 'access.approver-role-set',
      requestId: null,
      actor: changedBy,
      detail:
        role === null
          ? 'approver role unset: no request can be approved'
          : `approver role set to "${role}"`,
      access: { approverRole: role, previousApproverRole: previous },
    });
    return role;
  });
}
