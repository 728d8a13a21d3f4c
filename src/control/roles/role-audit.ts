import type pg from 'pg';
import { ADMIN_GROUP, INTERNAL_SUPERUSER, withControl } from '../control-client.js';
import { TOKEN_LOGIN_GROUP } from '../identity/identity-store.js';
import { type RoleActivity, readRoleActivity } from './role-activity.js';

/** Roles pgwarden creates for itself; listed, but never the subject of a finding. */
export const INTERNAL_ROLES: ReadonlySet<string> = new Set([
  INTERNAL_SUPERUSER,
  ADMIN_GROUP,
  TOKEN_LOGIN_GROUP,
]);

export type PasswordMethod = 'SCRAM-SHA-256' | 'md5' | 'none' | 'unknown';

/** A table whose owner (and so every role inheriting the owner's privileges) skips its policies. */
export interface RlsOwnedTable {
  readonly database: string;
  readonly schema: string;
  readonly table: string;
  readonly owner: string;
}

export interface AuditedRole {
  readonly name: string;
  readonly internal: boolean;
  readonly attributes: {
    readonly login: boolean;
    readonly superuser: boolean;
    readonly bypassRls: boolean;
    readonly createRole: boolean;
    readonly createDb: boolean;
    readonly replication: boolean;
    readonly inherit: boolean;
    /** -1: no limit. */
    readonly connectionLimit: number;
  };
  /** Every role it is a member of, directly or through other roles. */
  readonly memberOf: readonly { readonly role: string; readonly direct: boolean }[];
  readonly password: {
    readonly method: PasswordMethod;
    /** VALID UNTIL, or null when the password never expires. */
    readonly validUntil: string | null;
    readonly expired: boolean;
    /** From the audit log (see RoleActivity.passwordSet); 'unknown' without a record. */
    readonly setAt: string | 'unknown' | null;
    readonly ageDays: number | 'unknown' | null;
  };
  /** Newest gateway login, null when the audit log has none, 'unknown' without a log. */
  readonly lastLogin: string | 'unknown' | null;
  /** Owned objects per kind, summed over every database. */
  readonly owned: Readonly<Record<string, number>>;
  readonly rlsBypass: {
    readonly superuser: boolean;
    readonly bypassRls: boolean;
    /** Tables it owns or inherits ownership of, with RLS enabled but not forced. */
    readonly tables: readonly RlsOwnedTable[];
  };
}

/** PUBLIC's privileges on a schema, from the schema's ACL. */
export interface PublicSchemaPrivilege {
  readonly database: string;
  readonly schema: string;
  readonly privileges: readonly ('CREATE' | 'USAGE')[];
}

export interface RoleAudit {
  readonly generatedAt: string;
  readonly adminUser: string;
  readonly auditLog: { readonly available: boolean; readonly since: string | null };
  readonly roles: readonly AuditedRole[];
  readonly publicSchemaPrivileges: readonly PublicSchemaPrivilege[];
  /** Gateway logins of the administrator per application_name. */
  readonly adminApplications: readonly {
    readonly applicationName: string;
    readonly logins: number;
    readonly lastLogin: string;
  }[];
}

export interface RoleAuditOptions {
  readonly socketDir: string;
  readonly logDir: string;
  readonly adminUser: string;
  readonly now?: Date | undefined;
}

const DAY_MS = 86_400_000;

/**
 * Reads the roles from the catalogs (as the internal superuser, database by
 * database for what is per database) and what the audit log knows of them.
 * The password verifier itself never leaves PostgreSQL: only its method.
 */
export async function auditRoles(options: RoleAuditOptions): Promise<RoleAudit> {
  const now = options.now ?? new Date();
  const { socketDir } = options;
  const activity = await readRoleActivity(options.logDir, options.adminUser);
  const global = await withControl(socketDir, 'postgres', readGlobal);
  const owned = new Map<string, Record<string, number>>();
  const rlsTables: RlsOwnedTable[] = [];
  const publicSchemaPrivileges: PublicSchemaPrivilege[] = [];
  for (const row of global.databaseOwners) addCount(owned, row.owner, 'database', row.count);
  for (const database of global.databases) {
    await withControl(socketDir, database, async (client) => {
      for (const row of await ownedObjects(client)) addCount(owned, row.owner, row.kind, row.count);
      rlsTables.push(...(await unforcedRlsTables(client, database)));
      publicSchemaPrivileges.push(...(await publicPrivileges(client, database)));
    });
  }
  const owners = [...new Set(rlsTables.map((t) => t.owner))];
  const inheritsFrom = await withControl(socketDir, 'postgres', (client) =>
    inheritedOwners(client, owners),
  );
  const roles = global.roles.map((row): AuditedRole => {
    const heirOf = new Set([row.rolname, ...(inheritsFrom.get(row.rolname) ?? [])]);
    return {
      name: row.rolname,
      internal: INTERNAL_ROLES.has(row.rolname),
      attributes: {
        login: row.rolcanlogin,
        superuser: row.rolsuper,
        bypassRls: row.rolbypassrls,
        createRole: row.rolcreaterole,
        createDb: row.rolcreatedb,
        replication: row.rolreplication,
        inherit: row.rolinherit,
        connectionLimit: row.rolconnlimit,
      },
      memberOf: global.memberships.get(row.rolname) ?? [],
      password: passwordOf(row, activity, now),
      lastLogin:
        activity.since === null ? 'unknown' : (activity.lastLogin.get(row.rolname) ?? null),
      owned: owned.get(row.rolname) ?? {},
      rlsBypass: {
        superuser: row.rolsuper,
        bypassRls: row.rolbypassrls,
        tables: rlsTables.filter((t) => heirOf.has(t.owner)),
      },
    };
  });
  return {
    generatedAt: now.toISOString(),
    adminUser: options.adminUser,
    auditLog: { available: activity.since !== null, since: activity.since },
    roles,
    publicSchemaPrivileges,
    adminApplications: [...activity.adminLogins].map(([applicationName, seen]) => ({
      applicationName,
      logins: seen.count,
      lastLogin: seen.last,
    })),
  };
}

interface RoleRow {
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
  password_method: PasswordMethod;
  valid_until: Date | null;
  expired: boolean;
}

function passwordOf(row: RoleRow, activity: RoleActivity, now: Date): AuditedRole['password'] {
  const method = row.password_method;
  const setAt = method === 'none' ? null : (activity.passwordSet.get(row.rolname) ?? 'unknown');
  return {
    method,
    validUntil: row.valid_until === null ? null : row.valid_until.toISOString(),
    expired: row.expired,
    setAt,
    ageDays:
      setAt === null || setAt === 'unknown'
        ? setAt
        : Math.floor((now.getTime() - Date.parse(setAt)) / DAY_MS),
  };
}

/** Cluster-wide facts: roles (without PostgreSQL's predefined pg_*), memberships, databases. */
async function readGlobal(client: pg.Client) {
  const roles = await client.query<RoleRow>(
    `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
            rolreplication, rolbypassrls, rolconnlimit,
            CASE WHEN rolpassword IS NULL THEN 'none'
                 WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'SCRAM-SHA-256'
                 WHEN rolpassword ~ '^md5[0-9a-f]{32}$' THEN 'md5'
                 ELSE 'unknown' END AS password_method,
            CASE WHEN rolvaliduntil = 'infinity' THEN NULL ELSE rolvaliduntil END AS valid_until,
            coalesce(rolvaliduntil < now(), false) AS expired
       FROM pg_catalog.pg_authid
      WHERE rolname !~ '^pg_'
      ORDER BY rolname`,
  );
  // PostgreSQL refuses circular grants; the depth bound is only a guard.
  const members = await client.query<{ member: string; role: string; direct: boolean }>(
    `WITH RECURSIVE m(member, roleid, depth) AS (
       SELECT member, roleid, 1 FROM pg_catalog.pg_auth_members
       UNION
       SELECT m.member, a.roleid, m.depth + 1
         FROM m JOIN pg_catalog.pg_auth_members a ON a.member = m.roleid
        WHERE m.depth < 64)
     SELECT r.rolname AS member, g.rolname AS role, min(m.depth) = 1 AS direct
       FROM m JOIN pg_catalog.pg_roles r ON r.oid = m.member
              JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
      GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const memberships = new Map<string, { role: string; direct: boolean }[]>();
  for (const { member, role, direct } of members.rows) {
    const list = memberships.get(member) ?? [];
    list.push({ role, direct });
    memberships.set(member, list);
  }
  const databases = await client.query<{ datname: string }>(
    `SELECT datname FROM pg_catalog.pg_database
      WHERE datallowconn AND datname <> 'template0' ORDER BY datname`,
  );
  const databaseOwners = await client.query<{ owner: string; count: number }>(
    `SELECT r.rolname AS owner, count(*)::int AS count
       FROM pg_catalog.pg_database d JOIN pg_catalog.pg_roles r ON r.oid = d.datdba
      GROUP BY 1`,
  );
  return {
    roles: roles.rows,
    memberships,
    databases: databases.rows.map((r) => r.datname),
    databaseOwners: databaseOwners.rows,
  };
}

/** Schemas that are PostgreSQL's own: their objects are not anybody's doing. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'`;

/** Objects of one database per owner and kind (indexes and TOAST tables go with their table). */
async function ownedObjects(
  client: pg.Client,
): Promise<{ owner: string; kind: string; count: number }[]> {
  const result = await client.query<{ owner: string; kind: string; count: number }>(
    `SELECT r.rolname AS owner, o.kind, count(*)::int AS count FROM (
       SELECT c.relowner AS owner,
              CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                             WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
                             ELSE 'table' END AS kind
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_SCHEMA}
       UNION ALL
       SELECT p.proowner, CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                                         ELSE 'function' END
         FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE ${USER_SCHEMA}
       UNION ALL
       SELECT n.nspowner, 'schema' FROM pg_catalog.pg_namespace n WHERE ${USER_SCHEMA}
       UNION ALL
       SELECT t.typowner, 'type'
         FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE ${USER_SCHEMA}
          AND (t.typtype IN ('d', 'e', 'r')
               OR (t.typtype = 'c' AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c'))
     ) o JOIN pg_catalog.pg_roles r ON r.oid = o.owner
     GROUP BY 1, 2`,
  );
  return result.rows;
}

/** Tables with RLS enabled but not forced: their owner is exempt from the policies. */
async function unforcedRlsTables(client: pg.Client, database: string): Promise<RlsOwnedTable[]> {
  const result = await client.query<{ schema: string; table: string; owner: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, r.rolname AS owner
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
      WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND NOT c.relforcerowsecurity
      ORDER BY 1, 2`,
  );
  return result.rows.map((row) => ({ database, ...row }));
}

/**
 * PUBLIC's grants on schemas (grantee 0 in the ACL): CREATE or USAGE on any
 * schema but public and PostgreSQL's own, and CREATE on public.
 */
async function publicPrivileges(
  client: pg.Client,
  database: string,
): Promise<PublicSchemaPrivilege[]> {
  const result = await client.query<{ schema: string; privileges: ('CREATE' | 'USAGE')[] }>(
    `SELECT n.nspname AS schema, array_agg(a.privilege_type ORDER BY a.privilege_type) AS privileges
       FROM pg_catalog.pg_namespace n,
            aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
      WHERE a.grantee = 0 AND ${USER_SCHEMA}
        AND (a.privilege_type = 'CREATE' OR n.nspname <> 'public')
      GROUP BY 1 ORDER BY 1`,
  );
  return result.rows.map((row) => ({ database, ...row }));
}

/** For each role, which of `owners` it holds the privileges of through inheriting membership. */
async function inheritedOwners(
  client: pg.Client,
  owners: readonly string[],
): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  if (owners.length === 0) return map;
  const result = await client.query<{ role: string; owner: string }>(
    `SELECT r.rolname AS role, o.rolname AS owner
       FROM pg_catalog.pg_roles r JOIN pg_catalog.pg_roles o ON o.rolname = ANY($1) AND o.oid <> r.oid
      WHERE r.rolname !~ '^pg_' AND pg_catalog.pg_has_role(r.oid, o.oid, 'USAGE')`,
    [owners],
  );
  for (const { role, owner } of result.rows) map.set(role, [...(map.get(role) ?? []), owner]);
  return map;
}

function addCount(
  owned: Map<string, Record<string, number>>,
  owner: string,
  kind: string,
  count: number,
): void {
  const counts = owned.get(owner) ?? {};
  counts[kind] = (counts[kind] ?? 0) + count;
  owned.set(owner, counts);
}
