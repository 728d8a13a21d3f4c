import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import { isInternalRole } from '../roles/privileged-roles.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { type GuardrailOptions, guardrailViolations } from './access-guardrails.js';
import { type AccessSpec, PUBLIC_GRANTEE } from './access-spec-schema.js';
import {
  type CatalogState,
  type LiveGrant,
  readCatalogState,
  relationKey,
  utcText,
} from './catalog-state.js';
import {
  type AclTarget,
  type DesiredAccess,
  type DesiredPolicy,
  type DesiredRole,
  expandAccessSpec,
  specSchemas,
} from './desired-access.js';
import { isSingleExpression } from './policy-expression.js';

/**
 * `pgwarden access plan` (issue 6, item 2): the spec against the live catalog,
 * as the exact SQL that would make them equal, in dependency order, each
 * statement with the reason it is there. Every identifier goes through
 * quoteIdent and every literal through quoteLiteral (docs 4.1.1, 4.1.2.1).
 */

export const PLAN_GROUPS = [
  'roles',
  'memberships',
  'schemas',
  'owners',
  'privileges',
  'row security',
  'policies',
] as const;
export type PlanGroup = (typeof PLAN_GROUPS)[number];

export interface PlanStep {
  readonly group: PlanGroup;
  /** One line for people: what differs. Never a secret: specs hold none. */
  readonly why: string;
  readonly sql: string;
}

export interface AccessPlan {
  readonly database: string;
  readonly steps: readonly PlanStep[];
  /** sha256 of the SQL: `apply --expect` refuses a plan other than the one reviewed. */
  readonly fingerprint: string;
}

export interface PlanOptions extends GuardrailOptions {
  /**
   * Memberships a just-in-time grant made (ADR 12), as [member, role]: the
   * sweeper revokes them at expiry, so the spec neither revokes them nor calls them drift.
   */
  readonly jitMemberships: readonly (readonly [string, string])[];
}

/**
 * Plans in the caller's transaction (it writes nothing, but checks each
 * policy expression by creating it under a savepoint and rolling back).
 */
export async function planAccess(
  client: pg.ClientBase,
  spec: AccessSpec,
  options: PlanOptions,
): Promise<AccessPlan> {
  await checkExpressions(spec);
  const current = await client.query<{ db: string }>('SELECT current_database() AS db');
  if (current.rows[0]?.db !== spec.database) {
    throw new Error(
      `planAccess: connected to "${current.rows[0]?.db}", spec is for "${spec.database}"`,
    );
  }
  const live = await readCatalogState(client, specSchemas(spec));
  const functionOids = await resolveFunctions(client, spec);
  const desired = expandAccessSpec(spec, live, functionOids);

  const violations = guardrailViolations(desired, live, options);
  if (violations.length > 0) {
    throw new PgwardenError('PGW_ACCESS_SPEC_REFUSED', violations[0] ?? 'refused', {
      hint:
        violations.length > 1
          ? `and ${violations.length - 1} more (listed above); change the spec, or list the role in guardrails.privilegedRoles in pgwarden.yaml`
          : 'change the spec, or list the role in guardrails.privilegedRoles in pgwarden.yaml',
      details: violations.slice(1),
    });
  }
  checkRolesExist(desired, live);

  const steps: PlanStep[] = [
    ...(await planRoles(client, desired, live)),
    ...planMemberships(desired, live, options.jitMemberships),
    ...planSchemas(desired),
    ...planOwners(desired),
    ...planPrivileges(desired.targets),
    ...planRowSecurity(desired, live),
    ...(await planPolicies(client, desired, live)),
  ];
  return {
    database: spec.database,
    steps,
    fingerprint: fingerprintOf(spec.database, steps),
  };
}

export function fingerprintOf(database: string, steps: readonly PlanStep[]): string {
  const hash = createHash('sha256').update(database);
  for (const step of steps) hash.update('\0').update(step.sql);
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

async function checkExpressions(spec: AccessSpec): Promise<void> {
  for (const [schema, s] of Object.entries(spec.schemas)) {
    for (const [table, t] of Object.entries(s.tables)) {
      for (const [name, policy] of Object.entries(t.policies ?? {})) {
        for (const [key, text] of [
          ['using', policy.using],
          ['withCheck', policy.withCheck],
        ] as const) {
          if (text !== undefined && !(await isSingleExpression(text))) {
            throw new PgwardenError(
              'PGW_ACCESS_SPEC_INVALID',
              `schemas.${schema}.tables.${table}.policies.${name}.${key}: not a single SQL expression`,
              { hint: 'write one boolean expression, e.g. tenant_id = current_user' },
            );
          }
        }
      }
    }
  }
}

async function resolveFunctions(
  client: pg.ClientBase,
  spec: AccessSpec,
): Promise<Map<string, number>> {
  const oids = new Map<string, number>();
  for (const [schema, s] of Object.entries(spec.schemas)) {
    for (const signature of Object.keys(s.functions)) {
      // to_regprocedure returns NULL instead of raising for names that do not resolve.
      const result = await client.query<{ oid: string | null }>(
        'SELECT pg_catalog.to_regprocedure(pg_catalog.quote_ident($1) || $2::text)::oid::int8 AS oid',
        [schema, `.${signature}`],
      );
      const oid = result.rows[0]?.oid;
      if (oid !== null && oid !== undefined) oids.set(`${schema}\0${signature}`, Number(oid));
    }
  }
  return oids;
}

/** Every role the plan refers to must exist or be created by it. */
function checkRolesExist(desired: DesiredAccess, live: CatalogState): void {
  const known = new Set([
    ...live.roles.keys(),
    ...desired.roles.map((r) => r.name),
    PUBLIC_GRANTEE,
  ]);
  const need = (name: string, where: string) => {
    if (!known.has(name)) {
      throw new PgwardenError(
        'PGW_ACCESS_SPEC_INVALID',
        `${where}: role "${name}" does not exist and the spec does not define it`,
        { hint: `add "${name}" under roles:, or create it first` },
      );
    }
  };
  for (const role of desired.roles) {
    for (const parent of role.memberOf) need(parent, `${role.origin}.memberOf`);
  }
  for (const target of desired.targets) {
    for (const grantee of target.desired.keys()) need(grantee, target.label);
    if (target.defaults !== undefined) need(target.defaults.owner, target.label);
  }
  for (const owner of desired.owners) need(owner.owner, `owner of ${owner.label}`);
  for (const [schema, owner] of desired.createSchemas) need(owner, `owner of schema "${schema}"`);
  for (const table of desired.tables) {
    for (const policy of table.policies ?? []) {
      for (const role of policy.roles)
        need(role, `policy "${policy.name}" on "${table.schema}"."${table.name}"`);
    }
  }
}

function sqlRole(name: string): string {
  return name === PUBLIC_GRANTEE ? 'PUBLIC' : quoteIdent(name);
}

/** Attributes as CREATE/ALTER ROLE keywords (docs: CREATE ROLE). */
const ATTRIBUTES = [
  ['login', 'LOGIN', 'NOLOGIN'],
  ['superuser', 'SUPERUSER', 'NOSUPERUSER'],
  ['createdb', 'CREATEDB', 'NOCREATEDB'],
  ['createrole', 'CREATEROLE', 'NOCREATEROLE'],
  ['inherit', 'INHERIT', 'NOINHERIT'],
  ['replication', 'REPLICATION', 'NOREPLICATION'],
  ['bypassrls', 'BYPASSRLS', 'NOBYPASSRLS'],
] as const;

async function planRoles(
  client: pg.ClientBase,
  desired: DesiredAccess,
  live: CatalogState,
): Promise<PlanStep[]> {
  const steps: PlanStep[] = [];
  for (const role of desired.roles) {
    const validUntil =
      role.validUntil === undefined ? undefined : await normalizeTimestamp(client, role);
    const current = live.roles.get(role.name);
    const name = quoteIdent(role.name);
    if (current === undefined) {
      const words: string[] = ATTRIBUTES.map(([key, on, off]) => (role[key] ? on : off));
      words.push(`CONNECTION LIMIT ${role.connectionLimit}`);
      if (role.validUntil !== undefined) words.push(`VALID UNTIL ${quoteLiteral(role.validUntil)}`);
      steps.push({
        group: 'roles',
        why: `role "${role.name}" does not exist`,
        sql: `CREATE ROLE ${name} ${words.join(' ')};`,
      });
    } else {
      const changes: string[] = [];
      const differences: string[] = [];
      for (const [key, on, off] of ATTRIBUTES) {
        if (current[key] !== role[key]) {
          changes.push(role[key] ? on : off);
          differences.push(`${current[key] ? on : off} (spec: ${role[key] ? on : off})`);
        }
      }
      if (current.connectionLimit !== role.connectionLimit) {
        changes.push(`CONNECTION LIMIT ${role.connectionLimit}`);
        differences.push(
          `connection limit ${current.connectionLimit} (spec: ${role.connectionLimit})`,
        );
      }
      if (role.validUntil !== undefined && current.validUntil !== validUntil) {
        changes.push(`VALID UNTIL ${quoteLiteral(role.validUntil)}`);
        differences.push(
          `valid until ${current.validUntil ?? 'forever'} (spec: ${validUntil ?? 'forever'})`,
        );
      }
      if (changes.length > 0) {
        steps.push({
          group: 'roles',
          why: `role "${role.name}" has ${differences.join(', ')}`,
          sql: `ALTER ROLE ${name} ${changes.join(' ')};`,
        });
      }
    }
    if (role.comment !== undefined && (current?.comment ?? null) !== role.comment) {
      steps.push({
        group: 'roles',
        why: `comment of role "${role.name}" differs`,
        sql: `COMMENT ON ROLE ${name} IS ${quoteLiteral(role.comment)};`,
      });
    }
  }
  return steps;
}

/** The server's reading of a VALID UNTIL value, in the catalog reader's format (so they compare). */
async function normalizeTimestamp(
  client: pg.ClientBase,
  role: DesiredRole,
): Promise<string | null> {
  await client.query('SAVEPOINT pgwarden_valid_until');
  try {
    const result = await client.query<{ v: string | null }>(
      `SELECT ${utcText('$1::timestamptz')} AS v`,
      [role.validUntil],
    );
    await client.query('RELEASE SAVEPOINT pgwarden_valid_until');
    return result.rows[0]?.v ?? null;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT pgwarden_valid_until');
    throw new PgwardenError(
      'PGW_ACCESS_SPEC_INVALID',
      `${role.origin}.validUntil: "${role.validUntil}" is not a timestamp PostgreSQL reads`,
      { hint: 'write e.g. 2027-06-30T00:00:00Z, or infinity', cause: error },
    );
  }
}

function planMemberships(
  desired: DesiredAccess,
  live: CatalogState,
  jitMemberships: PlanOptions['jitMemberships'],
): PlanStep[] {
  const jit = new Set(jitMemberships.map(([member, role]) => `${member}\0${role}`));
  const steps: PlanStep[] = [];
  // PostgreSQL 16 keeps one grant per grantor; a superuser's REVOKE removes only its own.
  const grantedBy = live.serverVersionNum >= 160000;
  for (const role of desired.roles) {
    const wanted = new Set(role.memberOf);
    const held = live.memberships.filter((m) => m.member === role.name);
    for (const parent of role.memberOf) {
      if (!held.some((m) => m.role === parent)) {
        steps.push({
          group: 'memberships',
          why: `"${role.name}" is not a member of "${parent}"`,
          sql: `GRANT ${quoteIdent(parent)} TO ${quoteIdent(role.name)};`,
        });
      }
    }
    for (const membership of held) {
      if (wanted.has(membership.role) || isInternalRole(membership.role)) continue;
      if (jit.has(`${role.name}\0${membership.role}`)) continue; // time-boxed, revoked at expiry
      steps.push({
        group: 'memberships',
        why: `"${role.name}" is a member of "${membership.role}", which the spec does not list`,
        sql: `REVOKE ${quoteIdent(membership.role)} FROM ${quoteIdent(role.name)}${
          grantedBy ? ` GRANTED BY ${quoteIdent(membership.grantor)}` : ''
        };`,
      });
    }
  }
  return steps;
}

function planSchemas(desired: DesiredAccess): PlanStep[] {
  return [...desired.createSchemas].map(([schema, owner]) => ({
    group: 'schemas' as const,
    why: `schema "${schema}" does not exist`,
    sql: `CREATE SCHEMA ${quoteIdent(schema)} AUTHORIZATION ${quoteIdent(owner)};`,
  }));
}

function planOwners(desired: DesiredAccess): PlanStep[] {
  return desired.owners.map((o) => ({
    group: 'owners' as const,
    why: `${o.label} is owned by "${o.liveOwner}" (spec: "${o.owner}")`,
    sql: `ALTER ${o.onSql} OWNER TO ${quoteIdent(o.owner)};`,
  }));
}

/** GRANT/REVOKE text for one target and a list of privileges. */
function privilegeSql(
  target: AclTarget,
  verb: 'GRANT' | 'REVOKE',
  privileges: readonly string[],
  grantee: string,
  grantOptionOnly = false,
): string {
  const list = privileges
    .map((p) => (target.column === undefined ? p : `${p} (${quoteIdent(target.column)})`))
    .join(', ');
  const what = `${grantOptionOnly ? 'GRANT OPTION FOR ' : ''}${list}`;
  const body =
    verb === 'GRANT'
      ? `GRANT ${what} ON ${target.onSql} TO ${sqlRole(grantee)}`
      : `REVOKE ${what} ON ${target.onSql} FROM ${sqlRole(grantee)}${target.defaults === undefined ? ' CASCADE' : ''}`;
  if (target.defaults !== undefined) {
    return `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(target.defaults.owner)} IN SCHEMA ${quoteIdent(target.defaults.schema)} ${body};`;
  }
  return `${body};`;
}

/**
 * Table-level targets first: revoking a privilege on a table also revokes it
 * on every column (docs: REVOKE, "Notes"), so column grants the plan keeps
 * must be granted again after it.
 */
function planPrivileges(targets: readonly AclTarget[]): PlanStep[] {
  const revoked = new Set<string>();
  const steps: PlanStep[] = [];
  for (const target of targets.filter((t) => t.column === undefined)) {
    steps.push(
      ...planTarget(target, (grantee, privilege) => {
        if (target.kind === 'table') revoked.add(`${target.onSql}\0${grantee}\0${privilege}`);
      }),
    );
  }
  for (const target of targets.filter((t) => t.column !== undefined)) {
    const live = target.live.filter(
      (g) => !revoked.has(`${target.onSql}\0${g.grantee}\0${g.privilege}`),
    );
    steps.push(...planTarget({ ...target, live }, () => undefined, target.live));
  }
  return steps;
}

function planTarget(
  target: AclTarget,
  onRevoke: (grantee: string, privilege: string) => void,
  /** A column's grants before the table-level REVOKEs: what they drop is granted again, and is not drift. */
  before: readonly LiveGrant[] = target.live,
): PlanStep[] {
  const grantees = new Set<string>([
    ...target.desired.keys(),
    ...target.live.map((g) => g.grantee),
  ]);
  const steps: PlanStep[] = [];
  for (const grantee of [...grantees].sort()) {
    if (grantee === target.owner || grantee === target.formerOwner || isInternalRole(grantee)) {
      continue;
    }
    if (target.scope !== 'all' && !target.scope.has(grantee)) continue;
    const want = target.desired.get(grantee) ?? new Set<string>();
    const held = target.live.filter((g) => g.grantee === grantee);
    const extra = held.filter((g) => !want.has(g.privilege));
    const withOption = held.filter((g) => want.has(g.privilege) && g.grantable);
    const missing = [...want].filter((p) => !held.some((g) => g.privilege === p));
    for (const g of extra) onRevoke(grantee, g.privilege);
    steps.push(
      ...revokes(target, grantee, extra, false, ', which the spec does not give'),
      ...revokes(
        target,
        grantee,
        withOption,
        true,
        ' (WITH GRANT OPTION), which the spec does not give',
      ),
    );
    if (missing.length > 0) {
      steps.push({
        group: 'privileges',
        why: missing.every((p) => before.some((g) => g.grantee === grantee && g.privilege === p))
          ? `"${grantee}" keeps ${missing.join(', ')} on ${target.label}: granted again, as the table-level REVOKE drops column grants`
          : `"${grantee}" lacks ${missing.join(', ')} on ${target.label}`,
        sql: privilegeSql(target, 'GRANT', missing, grantee),
      });
    }
  }
  return steps;
}

/** REVOKE steps for `grants` (or only their grant option), one per grantor. */
function revokes(
  target: AclTarget,
  grantee: string,
  grants: readonly LiveGrant[],
  grantOptionOnly: boolean,
  because: string,
): PlanStep[] {
  return [...byGrantor(grants)].map(([grantor, held]) => {
    const privileges = held.map((g) => g.privilege);
    return {
      group: 'privileges' as const,
      why: `"${grantee}" ${grantOptionOnly ? 'may pass on' : 'has'} ${privileges.join(', ')} on ${target.label}${because}`,
      sql: asGrantor(
        grantor,
        target,
        privilegeSql(target, 'REVOKE', privileges, grantee, grantOptionOnly),
      ),
    };
  });
}

function byGrantor(grants: readonly LiveGrant[]): Map<string, LiveGrant[]> {
  const map = new Map<string, LiveGrant[]>();
  for (const g of grants) map.set(g.grantor, [...(map.get(g.grantor) ?? []), g]);
  return map;
}

/**
 * A superuser's GRANT/REVOKE acts as the object's owner (docs: GRANT, "Notes"),
 * so a grant someone else made is revoked as that someone.
 */
function asGrantor(grantor: string, target: AclTarget, sql: string): string {
  if (grantor === target.owner || grantor === target.formerOwner) return sql;
  return `SET ROLE ${quoteIdent(grantor)}; ${sql} RESET ROLE;`;
}

function planRowSecurity(desired: DesiredAccess, live: CatalogState): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const table of desired.tables) {
    if (table.rowSecurity === undefined) continue;
    const rel = live.relations.get(relationKey(table.schema, table.name));
    if (rel === undefined) continue;
    const name = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
    if (rel.rowSecurity !== table.rowSecurity.enabled) {
      steps.push({
        group: 'row security',
        why: `row level security on ${name} is ${rel.rowSecurity ? 'enabled' : 'disabled'} (spec: ${table.rowSecurity.enabled ? 'enabled' : 'disabled'})`,
        sql: `ALTER TABLE ${name} ${table.rowSecurity.enabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY;`,
      });
    }
    if (rel.forceRowSecurity !== table.rowSecurity.force) {
      steps.push({
        group: 'row security',
        why: `row level security on ${name} is ${rel.forceRowSecurity ? '' : 'not '}forced on the owner (spec: ${table.rowSecurity.force ? 'forced' : 'not forced'})`,
        sql: `ALTER TABLE ${name} ${table.rowSecurity.force ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY;`,
      });
    }
  }
  return steps;
}

function policySql(policy: DesiredPolicy): string {
  const roles = policy.roles.length === 0 ? 'PUBLIC' : policy.roles.map(sqlRole).join(', ');
  const parts = [
    `CREATE POLICY ${quoteIdent(policy.name)} ON ${quoteIdent(policy.schema)}.${quoteIdent(policy.table)}`,
    `AS ${policy.type.toUpperCase()} FOR ${policy.command} TO ${roles}`,
  ];
  if (policy.using !== undefined) parts.push(`USING (${policy.using})`);
  if (policy.withCheck !== undefined) parts.push(`WITH CHECK (${policy.withCheck})`);
  return `${parts.join(' ')};`;
}

async function planPolicies(
  client: pg.ClientBase,
  desired: DesiredAccess,
  live: CatalogState,
): Promise<PlanStep[]> {
  const steps: PlanStep[] = [];
  for (const table of desired.tables) {
    if (table.policies === undefined) continue;
    const name = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
    const existing = live.policies.filter(
      (p) => p.schema === table.schema && p.table === table.name,
    );
    for (const policy of existing) {
      if (table.policies.some((p) => p.name === policy.name)) continue;
      steps.push({
        group: 'policies',
        why: `policy "${policy.name}" on ${name} is not in the spec`,
        sql: `DROP POLICY ${quoteIdent(policy.name)} ON ${name};`,
      });
    }
    for (const policy of table.policies) {
      const normalized = await normalizePolicy(client, policy);
      const current = existing.find((p) => p.name === policy.name);
      const create = policySql(policy);
      if (current === undefined) {
        steps.push({
          group: 'policies',
          why: `policy "${policy.name}" on ${name} does not exist`,
          sql: create,
        });
        continue;
      }
      const roles = policy.roles.length === 0 ? [PUBLIC_GRANTEE] : [...policy.roles];
      const differences: string[] = [];
      if (current.command !== policy.command) differences.push(`command ${current.command}`);
      if (current.permissive !== (policy.type === 'permissive')) {
        differences.push(current.permissive ? 'permissive' : 'restrictive');
      }
      if (!sameSet(current.roles, roles)) differences.push(`roles ${current.roles.join(', ')}`);
      if (current.using !== normalized.using)
        differences.push(`USING ${current.using ?? '(none)'}`);
      if (current.withCheck !== normalized.withCheck) {
        differences.push(`WITH CHECK ${current.withCheck ?? '(none)'}`);
      }
      if (differences.length > 0) {
        steps.push({
          group: 'policies',
          why: `policy "${policy.name}" on ${name} has ${differences.join('; ')}: re-created as the spec says`,
          sql: `DROP POLICY ${quoteIdent(policy.name)} ON ${name}; ${create}`,
        });
      }
    }
  }
  return steps;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((v, i) => v === right[i]);
}

/**
 * The server's own deparse of a spec policy's expressions, so `tenant_id =
 * current_user` compares equal to the stored `(tenant_id = CURRENT_USER)`:
 * created under a savepoint on the real table and rolled back. A bad
 * expression fails here, at plan time, with the server's message.
 */
async function normalizePolicy(
  client: pg.ClientBase,
  policy: DesiredPolicy,
): Promise<{ using: string | null; withCheck: string | null }> {
  const probe = `pgwarden_probe_${randomBytes(6).toString('hex')}`;
  await client.query('SAVEPOINT pgwarden_policy_probe');
  try {
    await client.query(policySql({ ...policy, name: probe, roles: [] }));
    const result = await client.query<{ using: string | null; with_check: string | null }>(
      `SELECT pg_catalog.pg_get_expr(polqual, polrelid) AS using,
              pg_catalog.pg_get_expr(polwithcheck, polrelid) AS with_check
         FROM pg_catalog.pg_policy
        WHERE polname = $1 AND polrelid = (pg_catalog.quote_ident($2) || '.' || pg_catalog.quote_ident($3))::regclass`,
      [probe, policy.schema, policy.table],
    );
    const row = result.rows[0];
    return { using: row?.using ?? null, withCheck: row?.with_check ?? null };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PgwardenError(
      'PGW_ACCESS_SPEC_INVALID',
      `schemas.${policy.schema}.tables.${policy.table}.policies.${policy.name}: the server refuses it: ${reason}`,
      { hint: 'fix the USING / WITH CHECK expression or the command', cause: error },
    );
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT pgwarden_policy_probe');
  }
}
