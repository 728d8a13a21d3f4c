import { join } from 'node:path';

/** The fixed port number PostgreSQL names its socket after; there is no TCP listener. */
export const SOCKET_PORT = 5432;

/**
 * Where everything lives inside a pgwarden data directory.
 *
 *   pgwarden.json    marker and metadata, written first ("initialising") and last ("ready")
 *   pgwarden.yaml    optional configuration
 *   pgwarden.pid     the supervisor (`pgwarden up`) while it runs
 *   admin-password   the administrator's generated password, mode 0600
 *   pgdata/          the PostgreSQL cluster, mode 0700, owned by the PostgreSQL OS user
 *   run/             the private unix socket directory, mode 0700, same owner
 *   log/             postgresql.log, supervisor.log, gateway-events.jsonl
 *   tls/             pgwarden's CA and the gateway's server certificate (keys 0600)
 */
export interface DataDirLayout {
  readonly root: string;
  readonly meta: string;
  readonly configFile: string;
  readonly supervisorPid: string;
  readonly adminPassword: string;
  readonly pgdata: string;
  readonly socketDir: string;
  readonly socketPath: string;
  readonly logDir: string;
  readonly postgresLog: string;
  readonly supervisorLog: string;
  readonly gatewayEvents: string;
  readonly tlsDir: string;
}

export function dataDirLayout(root: string): DataDirLayout {
  const socketDir = join(root, 'run');
  const logDir = join(root, 'log');
  return {
    root,
    meta: join(root, 'pgwarden.json'),
    configFile: join(root, 'pgwarden.yaml'),
    supervisorPid: join(root, 'pgwarden.pid'),
    adminPassword: join(root, 'admin-password'),
    pgdata: join(root, 'pgdata'),
    socketDir,
    socketPath: join(socketDir, `.s.PGSQL.${SOCKET_PORT}`),
    logDir,
    postgresLog: join(logDir, 'postgresql.log'),
    supervisorLog: join(logDir, 'supervisor.log'),
    gatewayEvents: join(logDir, 'gateway-events.jsonl'),
    tlsDir: join(root, 'tls'),
  };
}
