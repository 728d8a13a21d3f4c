import type pg from 'pg';
import type { AccessPolicy } from '../../access/conditional-access.js';
import { validatePolicy } from '../../access/conditional-access.js';
import { PgwardenError } from '../../errors.js';
import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { STATE_CHANNEL } from '../state/state-channel.js';

/**
 * Conditional access policies in the state database. Each is validated before
 * it is stored; running gateways reload them on change and evaluate them after
 * authentication, before a backend session is opened.
 */
export async function readAccessPolicies(client: Queryable): Promise<AccessPolicy[]> {
  const result = await client.query<{ policy: AccessPolicy }>(
    'SELECT policy FROM pgwarden.access_policies ORDER BY name',
  );
  return result.rows.map((row) => row.policy);
}

/** Creates a policy (or replaces one of the same name with `replace`). */
export async function saveAccessPolicy(
  client: pg.Client,
  input: unknown,
  changedBy: string,
  replace: boolean,
): Promise<AccessPolicy> {
  const policy = validatePolicy(input);
  const sql = replace
    ? `WITH w AS (
         INSERT INTO pgwarden.access_policies (name, policy, created_by) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET policy = EXCLUDED.policy, created_at = now(), created_by = EXCLUDED.created_by
         RETURNING 1
       ) SELECT pg_notify('${STATE_CHANNEL}', 'access') FROM w`
    : `WITH w AS (
         INSERT INTO pgwarden.access_policies (name, policy, created_by) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING 1
       ) SELECT pg_notify('${STATE_CHANNEL}', 'access') FROM w`;
  const result = await client.query(sql, [policy.name, JSON.stringify(policy), changedBy]);
  if (result.rowCount === 0) {
    throw new PgwardenError('PGW_USAGE', `access policy "${policy.name}" already exists`, {
      hint: 'delete it first, or pass --replace',
    });
  }
  return policy;
}

export async function deleteAccessPolicy(client: pg.Client, name: string): Promise<void> {
  const result = await client.query(
    `WITH d AS (DELETE FROM pgwarden.access_policies WHERE name = $1 RETURNING 1)
     SELECT pg_notify('${STATE_CHANNEL}', 'access') FROM d`,
    [name],
  );
  if (result.rowCount === 0) {
    throw new PgwardenError('PGW_USAGE', `no access policy is named "${name}"`, {
      hint: 'pgwarden access policy list shows the policies',
    });
  }
}
