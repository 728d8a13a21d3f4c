import pg from 'pg';
import { SOCKET_PORT } from '../server/data-dir-layout.js';

/** The internal superuser: only the control plane uses it, only over the private socket. */
export const INTERNAL_SUPERUSER = 'pgwarden_su';
export const ADMIN_GROUP = 'pgwarden_admin';
export const STATE_DATABASE = 'pgwarden';

/**
 * A superuser session must not resolve names through schemas others control:
 * the administrator owns the `postgres` database and could
 * `ALTER DATABASE … SET search_path = evil, pg_catalog`, putting its own
 * functions and operators in front of pg_catalog's (the pg_dump hardening of
 * CVE-2018-1058). A setting in the startup packet overrides database and
 * role defaults (docs 20.1.4).
 */
export const CONTROL_SEARCH_PATH = '-c search_path=pg_catalog';

/**
 * Connects as the internal superuser over the private unix socket. pg_hba.conf
 * admits pgwarden_su only by `peer` authentication mapped from the OS user
 * running pgwarden, so there is no password to steal.
 */
export async function connectControl(socketDir: string, database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({
    host: socketDir,
    port: SOCKET_PORT,
    user: INTERNAL_SUPERUSER,
    database,
    application_name: 'pgwarden-control',
    connectionTimeoutMillis: 10_000,
    options: CONTROL_SEARCH_PATH,
  });
  await client.connect();
  return client;
}

/** Runs `fn` with a control connection and always closes it. */
export async function withControl<T>(
  socketDir: string,
  database: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connectControl(socketDir, database);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
