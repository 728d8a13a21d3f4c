import { PgwardenError } from '../../errors.js';
import type { Queryable } from '../gateway-settings/gateway-settings.js';

/** A role as the catalogue knows it now; the oid survives a rename. */
export interface RoleRef {
  readonly oid: number;
  readonly name: string;
}

/** pgwarden's roles and PostgreSQL's predefined roles are never handed out by request. */
const INTERNAL_ROLE = /^(pgwarden_|pg_)/;
/** Predefined roles that reach the server's files or programs: a way out of the database. */
const HOST_ACCESS_ROLES = new Set([
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
]);

/** The role named `name`, or undefined. */
export async function findRole(client: Queryable, name: string): Promise<RoleRef | undefined> {
  const result = await client.query<{ oid: number; name: string }>(
    'SELECT oid::int8::float8 AS oid, rolname AS name FROM pg_catalog.pg_roles WHERE rolname = $1',
    [name],
  );
  return result.rows[0];
}

/** The role with this oid under its current name, or undefined once it was dropped. */
export async function roleByOid(client: Queryable, oid: number): Promise<RoleRef | undefined> {
  const result = await client.query<{ oid: number; name: string }>(
    'SELECT oid::int8::float8 AS oid, rolname AS name FROM pg_catalog.pg_roles WHERE oid = $1::oid',
    [oid],
  );
  return result.rows[0];
}

/**
 * Checks that `role` may be handed to `requester` for a while. Refused: a
 * role that does not exist, the requester's own, internal roles, and any role
 * that is or reaches (through membership, which SET ROLE follows) a superuser,
 * a role with BYPASSRLS, REPLICATION or CREATEROLE, pgwarden's roles, the
 * server-file roles, a role holding ADMIN OPTION, or the approver role. The
 * rule behind the list: nothing held for a while may make itself permanent
 * (CREATEROLE and ADMIN OPTION grant roles; superusers do anything) or
 * approve requests.
 */
export async function checkGrantableRole(
  client: Queryable,
  name: string,
  requester: RoleRef,
  approverRole: string | null,
): Promise<RoleRef> {
  const role = await findRole(client, name);
  if (role === undefined) {
    throw invalid(
      `role "${name}" does not exist`,
      'ask an administrator to create it (CREATE ROLE ... NOLOGIN) with the privileges to hand out',
    );
  }
  if (role.oid === requester.oid) {
    throw invalid(`"${name}" is your own role`, 'request a role other than the one you log in as');
  }
  if (INTERNAL_ROLE.test(name)) {
    throw invalid(
      `role "${name}" is an internal role (pgwarden_* or pg_*); it is never granted on request`,
      'create an ordinary role, give it the privileges (or a predefined role) to hand out, and request that',
    );
  }
  const reached = await client.query<{
    rolname: string;
    rolsuper: boolean;
    rolbypassrls: boolean;
    rolreplication: boolean;
    rolcreaterole: boolean;
  }>(
    `SELECT g.rolname, g.rolsuper, g.rolbypassrls, g.rolreplication, g.rolcreaterole
       FROM pg_catalog.pg_roles g
      WHERE pg_catalog.pg_has_role($1::oid, g.oid, 'MEMBER')
      ORDER BY g.oid = $1::oid DESC, g.rolname`,
    [role.oid],
  );
  for (const r of reached.rows) {
    const via = r.rolname === name ? `role "${name}"` : `role "${name}" (through "${r.rolname}")`;
    const attribute = r.rolsuper
      ? 'SUPERUSER'
      : r.rolbypassrls
        ? 'BYPASSRLS'
        : r.rolreplication
          ? 'REPLICATION'
          : r.rolcreaterole
            ? 'CREATEROLE'
            : undefined;
    if (attribute !== undefined) {
      throw invalid(
        `${via} has ${attribute}; such roles are never granted on request`,
        'hand out an ordinary role with only the privileges needed',
      );
    }
    if (r.rolname.startsWith('pgwarden_')) {
      throw invalid(
        `${via} is a member of pgwarden's internal roles`,
        'hand out a role that is not a member of pgwarden_* roles',
      );
    }
    if (HOST_ACCESS_ROLES.has(r.rolname)) {
      throw invalid(
        `${via} reaches the server's files or programs`,
        'hand out a role without pg_execute_server_program, pg_read_server_files or pg_write_server_files',
      );
    }
    if (approverRole !== null && r.rolname === approverRole) {
      throw invalid(
        `${via} is the approver role "${approverRole}"; approval rights are not granted on request`,
        'make approvers members of the approver role permanently',
      );
    }
  }
  const admin = await client.query<{ rolname: string }>(
    `SELECT g.rolname FROM pg_catalog.pg_auth_members m
       JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
      WHERE m.admin_option AND pg_catalog.pg_has_role($1::oid, m.member, 'MEMBER')
      ORDER BY 1 LIMIT 1`,
    [role.oid],
  );
  const adminOf = admin.rows[0]?.rolname;
  if (adminOf !== undefined) {
    throw invalid(
      `role "${name}" can grant role "${adminOf}" to others (ADMIN OPTION); a holder could keep access after expiry`,
      'hand out a role that holds no ADMIN OPTION',
    );
  }
  const loop = await client.query<{ loop: boolean }>(
    `SELECT pg_catalog.pg_has_role($1::oid, $2::oid, 'MEMBER') AS loop`,
    [role.oid, requester.oid],
  );
  if (loop.rows[0]?.loop === true) {
    throw invalid(
      `role "${name}" is a member of "${requester.name}"; granting it back would make a loop`,
      'request a role that does not contain your own',
    );
  }
  return role;
}

function invalid(message: string, hint: string): PgwardenError {
  return new PgwardenError('PGW_JIT_INVALID', message, { hint });
}
