import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import { generatePolicyPassword } from '../../control/roles/password-policy.js';
import { setRolePassword } from '../../control/roles/role-password.js';
import { PgwardenError } from '../../errors.js';
import type { CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';

export const ROLE_PASSWORD_USAGE = [
  'pgwarden role password set --role R [--stdin]   (the password from stdin or PGWARDEN_NEW_PASSWORD)',
  'pgwarden role password rotate --role R [--out FILE]',
];

export const ROLE_PASSWORD_FLAGS: Record<string, readonly string[]> = {
  set: ['role', 'stdin'],
  rotate: ['role', 'out'],
};

/** Where a new password is read from: never a flag, which `ps` would show. */
export const NEW_PASSWORD_ENV = 'PGWARDEN_NEW_PASSWORD';

/** `pgwarden role password set|rotate`: thin, the policy lives in control/roles. */
export async function runRolePassword(
  input: CommandInput,
  sub: 'set' | 'rotate',
  usage: (message: string) => PgwardenError,
): Promise<number> {
  const role = input.flags.role;
  if (typeof role !== 'string' || role === '') throw usage('--role is required');
  const password = sub === 'set' ? await newPassword(input, usage) : undefined;
  const ctx = await runningServerContext(input);
  const policy = ctx.config.passwords;
  const chosen = password ?? generatePolicyPassword(role, policy);
  const out = typeof input.flags.out === 'string' ? resolve(input.io.cwd, input.flags.out) : null;
  // Created before the password changes, so an existing file refuses without a change.
  const fd = out === null ? null : createSecretFile(out);
  let result: Awaited<ReturnType<typeof setRolePassword>>;
  try {
    result = await withControl(ctx.layout.socketDir, STATE_DATABASE, (client) =>
      setRolePassword(client, role, chosen, policy),
    );
  } catch (error) {
    if (fd !== null && out !== null) {
      closeSync(fd);
      unlinkSync(out);
    }
    throw error;
  }
  const expires = result.validUntil === null ? 'never expires' : `valid until ${result.validUntil}`;
  if (sub === 'set') {
    input.io.out(`password of role "${role}" set; ${expires}`);
  } else if (fd !== null) {
    writeSync(fd, `${chosen}\n`);
    closeSync(fd);
    input.io.err(`password of role "${role}" rotated; ${expires}`);
    input.io.out(out ?? '');
  } else {
    // The only line on stdout, for automation; the status goes to stderr.
    input.io.err(`password of role "${role}" rotated; ${expires}`);
    input.io.out(chosen);
  }
  return 0;
}

async function newPassword(
  input: CommandInput,
  usage: (message: string) => PgwardenError,
): Promise<string> {
  if (input.flags.stdin === true) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    // `echo "$PW" |` adds one newline; it is not part of the password.
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const fromEnv = input.io.env[NEW_PASSWORD_ENV];
  if (fromEnv === undefined || fromEnv === '') {
    throw usage(`give the new password on stdin with --stdin, or in ${NEW_PASSWORD_ENV}`);
  }
  return fromEnv;
}

/** A new file only this user can read; never overwrites (O_EXCL). */
function createSecretFile(path: string): number {
  try {
    return openSync(path, 'wx', 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new PgwardenError('PGW_OUTPUT_FILE_EXISTS', `${path} already exists`, {
        hint: 'give --out a new path, or remove the old file first',
        cause,
      });
    }
    throw new PgwardenError('PGW_USAGE', `cannot create ${path}`, {
      hint: 'give --out a path in a directory you can write',
      cause,
    });
  }
}
