import pg from 'pg';
import { INTERNAL_SUPERUSER, STATE_DATABASE } from '../control/control-client.js';
import { SOCKET_PORT } from '../server/data-dir-layout.js';

/** What the gateway needs to know about a role before authenticating it. */
export type RoleLookup =
  | { readonly kind: 'scram'; readonly verifier: string }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'internal' }
  | { readonly kind: 'no-scram-secret' };

/** Where the gateway reads a role's verifier from. */
export interface RoleSource {
  lookup(user: string): Promise<RoleLookup>;
  end(): Promise<void>;
}

/** Superusers (pgwarden_su first of all) are internal: the gateway never admits them. */
export function classifyRole(
  user: string,
  row: { readonly rolpassword: string | null; readonly rolsuper: boolean } | undefined,
): RoleLookup {
  if (row === undefined) return { kind: 'unknown' };
  if (row.rolsuper || user === INTERNAL_SUPERUSER) return { kind: 'internal' };
  if (row.rolpassword?.startsWith('SCRAM-SHA-256$') === true)
    return { kind: 'scram', verifier: row.rolpassword };
  return { kind: 'no-scram-secret' };
}

/**
 * Reads SCRAM verifiers from the managed server's pg_authid through the
 * control connection, so the gateway never needs a password; also serves
 * the gateway's state queries (firewall rules, settings).
 */
export class RoleDirectory implements RoleSource {
  private readonly pool: pg.Pool;

  constructor(socketDir: string) {
    this.pool = new pg.Pool({
      host: socketDir,
      port: SOCKET_PORT,
      user: INTERNAL_SUPERUSER,
      database: STATE_DATABASE, // pg_authid is shared: readable from any database
      application_name: 'pgwarden-gateway',
      max: 4,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on('error', () => undefined); // a dropped idle connection is replaced on next use
  }

  async lookup(user: string): Promise<RoleLookup> {
    const result = await this.pool.query<{ rolpassword: string | null; rolsuper: boolean }>(
      'SELECT rolpassword, rolsuper FROM pg_authid WHERE rolname = $1',
      [user],
    );
    const row = result.rows[0];
    if (row === undefined) return { kind: 'unknown' };
    if (row.rolsuper || user === INTERNAL_SUPERUSER) return { kind: 'internal' };
    if (row.rolpassword?.startsWith('SCRAM-SHA-256$') === true)
      return { kind: 'scram', verifier: row.rolpassword };
    return { kind: 'no-scram-secret' };
  }

  /** A pooled connection for other state queries (firewall, settings). */
  query<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}
