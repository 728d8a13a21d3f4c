import type pg from 'pg';
import { ADMIN_GROUP, INTERNAL_SUPERUSER, STATE_DATABASE } from './control-client.js';
import { quoteIdent, quoteLiteral } from './sql/quote.js';

export interface BootstrapOptions {
  readonly adminUser: string;
  /** SCRAM-SHA-256 verifier of the admin password, computed client-side. */
  readonly adminVerifier: string;
  readonly allowAdminReplication: boolean;
}

/** Predefined roles the pseudo-superuser group holds (docs 22.5 "Predefined Roles"). */
export const ADMIN_GROUP_ROLES = [
  'pg_monitor',
  'pg_signal_backend',
  'pg_read_all_settings',
] as const;

/**
 * The cloud role model, run once at init as the internal superuser on the
 * `postgres` database:
 *
 * - pgwarden_su: the bootstrap superuser initdb created; no password, peer only.
 * - pgwarden_admin: NOLOGIN pseudo-superuser group: CREATEROLE, CREATEDB and the
 *   monitoring roles; never SUPERUSER, REPLICATION only when allowed. It holds
 *   its predefined roles without ADMIN OPTION, so it cannot hand them on, and
 *   since pgwarden_su created it, no member can ALTER it (PostgreSQL 16+).
 * - the administrator login: CREATEROLE and CREATEDB itself (role attributes are
 *   not inherited through membership), and a member of pgwarden_admin.
 * - the `postgres` database is owned by pgwarden_admin.
 */
export function bootstrapRolesSql(options: BootstrapOptions): string[] {
  const admin = quoteIdent(options.adminUser);
  const group = quoteIdent(ADMIN_GROUP);
  const replication = options.allowAdminReplication ? 'REPLICATION' : 'NOREPLICATION';
  return [
    `CREATE ROLE ${group} NOLOGIN NOSUPERUSER CREATEROLE CREATEDB INHERIT ${replication} NOBYPASSRLS`,
    `COMMENT ON ROLE ${group} IS ${quoteLiteral('pgwarden: pseudo-superuser group for administrators')}`,
    `GRANT ${ADMIN_GROUP_ROLES.join(', ')} TO ${group}`,
    `CREATE ROLE ${admin} LOGIN NOSUPERUSER CREATEROLE CREATEDB INHERIT ${replication} NOBYPASSRLS PASSWORD ${quoteLiteral(options.adminVerifier)}`,
    `GRANT ${group} TO ${admin}`,
    // As on managed clouds, the default database belongs to the admin group, so
    // administrators can create objects in it (public is owned by pg_database_owner).
    `ALTER DATABASE postgres OWNER TO ${group}`,
    `COMMENT ON ROLE ${quoteIdent(INTERNAL_SUPERUSER)} IS ${quoteLiteral('pgwarden: internal superuser, control plane only')}`,
  ];
}

/** Per-database hardening, run in template1 (so new databases inherit it) and in postgres. */
export const HARDEN_DATABASE_SQL = [
  // PostgreSQL 15+ already does this for new clusters; stating it keeps older
  // templates and restored databases honest (docs 5.9.6 "Usage Patterns").
  'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
];

/** Creates the control-plane state database; nobody but pgwarden_su may connect. */
export async function createStateDatabase(client: pg.Client): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
    STATE_DATABASE,
  ]);
  if (exists.rowCount === 0) {
    await client.query(
      `CREATE DATABASE ${quoteIdent(STATE_DATABASE)} OWNER ${quoteIdent(INTERNAL_SUPERUSER)}`,
    );
  }
  await client.query(`REVOKE ALL ON DATABASE ${quoteIdent(STATE_DATABASE)} FROM PUBLIC`);
}
