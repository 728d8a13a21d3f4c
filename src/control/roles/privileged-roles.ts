import { ADMIN_GROUP, INTERNAL_SUPERUSER } from '../control-client.js';
import { TOKEN_LOGIN_GROUP } from '../identity/identity-store.js';

/**
 * What counts as "more power than a managed administrator has", shared by the
 * gateway's statement guard and `pgwarden access apply` so both refuse the
 * same things.
 */

/** Role attributes only `guardrails.privilegedRoles` may be given (docs 22.2 "Role Attributes"). */
export const PRIVILEGED_ATTRIBUTES = ['SUPERUSER', 'BYPASSRLS', 'REPLICATION'] as const;
export type PrivilegedAttribute = (typeof PRIVILEGED_ATTRIBUTES)[number];

/**
 * Predefined roles that reach the server's files or programs, or every table
 * regardless of grants (docs 22.5 "Predefined Roles"). The first three are
 * superuser in all but name. On PostgreSQL 15 any CREATEROLE role may grant
 * them, so the guard is what stops an administrator granting them to itself.
 */
export const PRIVILEGED_PREDEFINED_ROLES = [
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_write_all_data',
  'pg_read_all_data',
] as const;

/** Roles pgwarden itself depends on: never altered, dropped or granted by users or specs. */
export const INTERNAL_ROLES = [INTERNAL_SUPERUSER, ADMIN_GROUP, TOKEN_LOGIN_GROUP] as const;

export function isInternalRole(name: string): boolean {
  return (INTERNAL_ROLES as readonly string[]).includes(name);
}

export function isPrivilegedPredefinedRole(name: string): boolean {
  return (PRIVILEGED_PREDEFINED_ROLES as readonly string[]).includes(name);
}
