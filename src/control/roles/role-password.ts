import type pg from 'pg';
import { scramSha256Verifier } from '../../auth/scram-secret.js';
import { matchesScramVerifier } from '../../auth/scram-verifier-match.js';
import { PgwardenError } from '../../errors.js';
import { inTransaction } from '../access/in-transaction.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { checkPassword, type PasswordPolicy, type PasswordViolation } from './password-policy.js';

/** Roles pgwarden runs on, and PostgreSQL's own: their passwords are not ours to set. */
const INTERNAL_ROLE = /^(pgwarden_|pg_)/;

export interface SetPasswordResult {
  readonly role: string;
  /** When the password expires, or null for never. */
  readonly validUntil: string | null;
}

/**
 * Sets a role's password under the policy, on a control connection to the
 * state database. In one transaction: the role is checked and locked against
 * concurrent sets, the password is checked against the policy and the last
 * `historySize` verifiers (and the current one), the SCRAM verifier computed
 * here is set with VALID UNTIL, and the history is trimmed to `historySize`.
 * The plaintext never leaves this process.
 */
export async function setRolePassword(
  client: pg.Client,
  role: string,
  password: string,
  policy: PasswordPolicy,
): Promise<SetPasswordResult> {
  const violations = checkPassword(password, role, policy);
  if (violations.some((v) => v.id === 'invalid-characters' || v.id === 'too-long')) {
    throw policyError(role, violations);
  }
  return inTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`password:${role}`]);
    const current = await targetRole(client, role);
    if (policy.historySize > 0 && (await reused(client, role, password, current, policy))) {
      violations.push({
        id: 'reused',
        message: `it is one of the last ${policy.historySize} passwords of the role`,
      });
    }
    if (violations.length > 0) throw policyError(role, violations);
    const until =
      policy.expiryDays === 0
        ? null
        : ((
            await client.query<{ until: Date }>(
              'SELECT now() + make_interval(days => $1) AS until',
              [policy.expiryDays],
            )
          ).rows[0]?.until.toISOString() ?? null);
    const verifier = scramSha256Verifier(password);
    await client.query(
      `ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(verifier)} VALID UNTIL ${quoteLiteral(until ?? 'infinity')}`,
    );
    await recordVerifier(client, role, verifier, policy.historySize);
    return { role, validUntil: until };
  });
}

/** The role's current verifier, after refusing missing, internal and superuser roles. */
async function targetRole(client: pg.Client, role: string): Promise<string | null> {
  const found = await client.query<{ rolsuper: boolean; rolpassword: string | null }>(
    'SELECT rolsuper, rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1',
    [role],
  );
  const row = found.rows[0];
  const reason =
    row === undefined
      ? 'does not exist'
      : INTERNAL_ROLE.test(role)
        ? 'is an internal role'
        : row.rolsuper
          ? 'is a superuser'
          : undefined;
  if (reason !== undefined) {
    throw new PgwardenError('PGW_PASSWORD_ROLE_REFUSED', `role "${role}" ${reason}`, {
      hint: 'pgwarden sets passwords of ordinary roles only; list them with `pgwarden role audit`',
    });
  }
  return row?.rolpassword ?? null;
}

async function reused(
  client: pg.Client,
  role: string,
  password: string,
  current: string | null,
  policy: PasswordPolicy,
): Promise<boolean> {
  const history = await client.query<{ verifier: string }>(
    'SELECT verifier FROM pgwarden.password_history WHERE role = $1 ORDER BY set_at DESC LIMIT $2',
    [role, policy.historySize],
  );
  // The current password counts even when it was set outside pgwarden.
  const verifiers = [
    ...(current === null ? [] : [current]),
    ...history.rows.map((r) => r.verifier),
  ];
  return verifiers.some((verifier) => matchesScramVerifier(password, verifier));
}

async function recordVerifier(
  client: pg.Client,
  role: string,
  verifier: string,
  historySize: number,
): Promise<void> {
  if (historySize > 0) {
    await client.query(
      'INSERT INTO pgwarden.password_history (role, verifier, set_at) VALUES ($1, $2, clock_timestamp())',
      [role, verifier],
    );
  }
  await client.query(
    `DELETE FROM pgwarden.password_history WHERE role = $1 AND set_at NOT IN (
       SELECT set_at FROM pgwarden.password_history WHERE role = $1 ORDER BY set_at DESC LIMIT $2)`,
    [role, historySize],
  );
}

function policyError(role: string, violations: readonly PasswordViolation[]): PgwardenError {
  return new PgwardenError(
    'PGW_PASSWORD_POLICY',
    `the new password of role "${role}" breaks the password policy`,
    {
      hint: 'choose a password that meets each rule above, or run `pgwarden role password rotate`',
      details: violations.map((v) => `${v.id}: ${v.message}`),
    },
  );
}
