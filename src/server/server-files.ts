import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INTERNAL_SUPERUSER } from '../control/control-client.js';
import type { RunAs } from '../util/run-command.js';
import { writeFileAtomic } from './data-dir.js';
import { type DataDirLayout, SOCKET_PORT } from './data-dir-layout.js';

export const MANAGED_CONF = 'pgwarden.conf';
const CONTROL_MAP = 'pgwarden_control';

/**
 * Settings that must hold whatever postgresql.auto.conf says: passed on the
 * postgres command line, which outranks every configuration file
 * (docs 19.1.4 "Parameter Interaction via the Shell"), so not even
 * ALTER SYSTEM can open a TCP listener or weaken password storage.
 */
export function commandLineSettings(layout: DataDirLayout): readonly string[] {
  const settings: Record<string, string> = {
    listen_addresses: '',
    port: String(SOCKET_PORT),
    unix_socket_directories: layout.socketDir,
    unix_socket_permissions: '0700',
    password_encryption: 'scram-sha-256',
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** The secure defaults pgwarden manages, included from postgresql.conf. */
function managedConf(): string {
  return `# Managed by pgwarden; rewritten by pgwarden. Change parameters with
# \`pgwarden parameter set NAME VALUE\` (stored in postgresql.auto.conf).
# listen_addresses, port, unix_socket_* and password_encryption are set on the
# postgres command line by pgwarden and cannot be overridden.
password_encryption = 'scram-sha-256'
log_destination = 'stderr'
logging_collector = off
log_connections = on
log_disconnections = on
log_checkpoints = on
log_line_prefix = '%m [%p] %q%u@%d app=%a '
log_timezone = 'UTC'
`;
}

/**
 * pg_hba.conf: the private socket only, nothing from the network (docs 21.1).
 * The internal superuser is admitted by `peer` through an ident map naming the
 * OS users that run pgwarden (docs 21.2), so it has no password at all; every
 * other role must present a SCRAM-SHA-256 proof, except members of
 * pgwarden_token_login: roles mapped to an identity principal, whose sessions
 * the gateway opens after verifying the token itself. Only the OS users that
 * already hold the internal superuser can reach the socket directory (mode
 * 0700), so that line gives nobody anything new (ADR 11). No `host` line
 * exists, so a TCP connection is rejected even if a listener were somehow
 * opened.
 */
function hbaConf(): string {
  return `# Managed by pgwarden; rewritten by pgwarden.
# TYPE  DATABASE     USER            METHOD
local   all          ${INTERNAL_SUPERUSER}     peer map=${CONTROL_MAP}
local   replication  ${INTERNAL_SUPERUSER}     peer map=${CONTROL_MAP}
local   all          +pgwarden_token_login  trust
local   all          all             scram-sha-256
`;
}

function identConf(controlOsUsers: readonly string[]): string {
  const lines = controlOsUsers.map((user) => `${CONTROL_MAP}  ${user}  ${INTERNAL_SUPERUSER}`);
  return `# Managed by pgwarden; rewritten by pgwarden.
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
${lines.join('\n')}
`;
}

/** Writes pgwarden.conf, pg_hba.conf and pg_ident.conf, and includes pgwarden.conf once. */
export function writeServerFiles(
  layout: DataDirLayout,
  controlOsUsers: readonly string[],
  owner: RunAs | undefined,
): void {
  writeFileAtomic(join(layout.pgdata, MANAGED_CONF), managedConf(), 0o600, owner);
  writeFileAtomic(join(layout.pgdata, 'pg_hba.conf'), hbaConf(), 0o600, owner);
  writeFileAtomic(join(layout.pgdata, 'pg_ident.conf'), identConf(controlOsUsers), 0o600, owner);
  const main = join(layout.pgdata, 'postgresql.conf');
  const include = `include '${MANAGED_CONF}'`;
  if (!readFileSync(main, 'utf8').split('\n').includes(include)) {
    appendFileSync(main, `\n# pgwarden's managed settings (keep this line last)\n${include}\n`);
  }
}
