import type pg from 'pg';
import { AUDIT_CLASSES, type AuditConfig } from '../../config/config-schema.js';
import { PgwardenError } from '../../errors.js';
import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { STATE_CHANNEL } from '../state/state-channel.js';

export type PolicyScope = 'default' | 'role' | 'database';

export interface PolicyRow {
  readonly scope: PolicyScope;
  readonly name: string;
  readonly classes: readonly string[];
}

const ALLOWED = new Set<string>([...AUDIT_CLASSES, 'all', 'none', 'parameters']);

/** Parses `ddl,role,write` into a validated class list. */
export function parseClassList(text: string): string[] {
  const classes = text
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
  const bad = classes.filter((c) => !ALLOWED.has(c));
  if (classes.length === 0 || bad.length > 0) {
    throw new PgwardenError('PGW_USAGE', `not audit classes: ${bad.join(', ') || '(none given)'}`, {
      hint: `use a comma-separated list of ${[...ALLOWED].join(', ')}`,
    });
  }
  return classes;
}

export async function readPolicyRows(client: Queryable): Promise<PolicyRow[]> {
  const result = await client.query<PolicyRow>(
    'SELECT scope, name, classes FROM pgwarden.audit_policy ORDER BY scope, name',
  );
  return result.rows;
}

/** Sets (or, with `classes` null, removes) one policy entry; running gateways apply it within a second. */
export async function writePolicy(
  client: pg.Client,
  scope: PolicyScope,
  name: string,
  classes: readonly string[] | null,
  changedBy: string,
): Promise<void> {
  const sql =
    classes === null
      ? `WITH w AS (DELETE FROM pgwarden.audit_policy WHERE scope = $1 AND name = $2 RETURNING 1)
         SELECT pg_notify('${STATE_CHANNEL}', 'audit-policy')`
      : `WITH w AS (
           INSERT INTO pgwarden.audit_policy (scope, name, classes, updated_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (scope, name) DO UPDATE SET classes = EXCLUDED.classes, updated_at = now(), updated_by = EXCLUDED.updated_by
           RETURNING 1
         ) SELECT pg_notify('${STATE_CHANNEL}', 'audit-policy') FROM w`;
  await client.query(sql, classes === null ? [scope, name] : [scope, name, classes, changedBy]);
}

/**
 * The effective policy: pgwarden.yaml's `audit` section, with the entries set
 * by `pgwarden audit configure` taking precedence (the later, explicit word).
 */
export function mergePolicy(file: AuditConfig, rows: readonly PolicyRow[]): AuditConfig {
  const roles: Record<string, AuditConfig['log']> = { ...file.roles };
  const databases: Record<string, AuditConfig['log']> = { ...file.databases };
  let log = file.log;
  for (const row of rows) {
    const classes = row.classes as AuditConfig['log'];
    if (row.scope === 'default') log = classes;
    else if (row.scope === 'role') roles[row.name] = classes;
    else databases[row.name] = classes;
  }
  return { ...file, log, roles, databases };
}
