import { PgwardenError } from '../errors.js';
import { type RunAs, runCommand } from '../util/run-command.js';

/** True when pgwarden must hand PostgreSQL to an unprivileged OS user. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * PostgreSQL refuses to run as root (postgres.c: "root execution of the
 * PostgreSQL server is not permitted"). When pgwarden runs as root it runs
 * PostgreSQL as `name`, creating a locked system account without a home or
 * login shell if there is none; otherwise everything runs as the invoking user.
 */
export async function ensureOsUser(name: string): Promise<RunAs | undefined> {
  if (!isRoot()) return undefined;
  const existing = await lookupUser(name);
  if (existing !== undefined) {
    if (existing.uid === 0) {
      throw new PgwardenError('PGW_OS_USER_FAILED', `OS user "${name}" has uid 0, so it is root`, {
        hint: 'choose an unprivileged account with --os-user',
      });
    }
    return existing;
  }
  const attempts: [string, string[]][] = [
    [
      'useradd',
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        name,
      ],
    ],
    ['adduser', ['--system', '--group', '--no-create-home', '--home', '/nonexistent', name]],
    ['adduser', ['-S', '-D', '-H', name]],
  ];
  const errors: string[] = [];
  for (const [file, args] of attempts) {
    const result = await runCommand(file, args);
    if (result.code === 0) break;
    errors.push(
      `${file}: ${result.spawnError?.code ?? result.stderr.trim().split('\n')[0] ?? 'failed'}`,
    );
  }
  const created = await lookupUser(name);
  if (created === undefined) {
    throw new PgwardenError(
      'PGW_OS_USER_FAILED',
      `cannot create OS user "${name}" (${errors.join('; ')})`,
      {
        hint: 'create an unprivileged user yourself and pass it with --os-user',
      },
    );
  }
  return created;
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  const result = await runCommand('getent', ['passwd', name]);
  if (result.code !== 0) return undefined;
  const fields = result.stdout.trim().split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name, uid, gid };
}
