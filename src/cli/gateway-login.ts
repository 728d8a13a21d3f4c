import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { messageOf, PgwardenError } from '../errors.js';
import type { DataDirLayout } from '../server/data-dir-layout.js';
import { liveSupervisor } from '../server/supervisor.js';

export interface GatewayLogin {
  readonly user: string;
  /** Never printed, logged or stored; only sent to the gateway, over verified TLS. */
  readonly password: string;
  /** The database to log in to (PGDATABASE; default postgres). */
  readonly database: string;
  /** CA file for verify-full (PGSSLROOTCERT; default DATADIR/tls/ca.crt). */
  readonly caFile?: string | undefined;
}

/** A wildcard listener is reached on the loopback interface of the same family. */
const WILDCARD: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };

/**
 * Proves who runs a command: the CLI talks to the state database as the
 * internal superuser, which says nothing about the person at the keyboard,
 * so they log in through the gateway as themselves (password or token, TLS
 * verify-full, every gateway check applied) and the session user the server
 * reports is who they are. Returns that role name.
 */
export async function loginThroughGateway(
  layout: DataDirLayout,
  login: GatewayLogin,
): Promise<string> {
  const listening = liveSupervisor(layout)?.gateway?.listening[0];
  if (listening === undefined) {
    throw new PgwardenError('PGW_SERVER_NOT_RUNNING', 'the gateway is not running', {
      hint: 'start it with pgwarden up --detach; users prove who they are by logging in through it',
    });
  }
  const host = WILDCARD[listening.address] ?? listening.address;
  const caFile = login.caFile ?? join(layout.tlsDir, 'ca.crt');
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (cause) {
    throw failed(`cannot read the CA certificate ${caFile}: ${messageOf(cause)}`);
  }
  const client = new pg.Client({
    host,
    port: listening.port,
    user: login.user,
    password: login.password,
    database: login.database,
    application_name: 'pgwarden-access',
    connectionTimeoutMillis: 10_000,
    // verify-full: the chain against pgwarden's CA, and the host name (or IP) against the certificate.
    ssl: { ca, rejectUnauthorized: true },
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ session_user: string; current_user: string }>(
      'SELECT session_user, current_user',
    );
    const sessionUser = result.rows[0]?.session_user;
    if (sessionUser !== login.user) {
      throw failed(`the gateway logged "${login.user}" in as "${String(sessionUser)}"`);
    }
    return sessionUser;
  } catch (error) {
    if (error instanceof PgwardenError) throw error;
    // The server's message ("password authentication failed for user ...") never holds the password.
    throw failed(
      `could not log in as "${login.user}" through the gateway at ${host}:${listening.port}: ${messageOf(error)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function failed(message: string): PgwardenError {
  return new PgwardenError('PGW_JIT_LOGIN_FAILED', message, {
    hint: 'give your own role with --user and its password (or access token) in PGPASSWORD',
  });
}
