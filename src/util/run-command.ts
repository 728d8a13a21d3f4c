import { spawn } from 'node:child_process';

export interface RunAs {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface RunCommandOptions {
  /** Run as this OS user (only when pgwarden is root). */
  readonly runAs?: RunAs | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES, …). */
  readonly spawnError?: NodeJS.ErrnoException;
}

const MAX_CAPTURE = 1 << 20;

/** Runs a program to completion, capturing (bounded) output; never throws. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? minimalEnv(),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.runAs === undefined ? {} : { uid: options.runAs.uid, gid: options.runAs.gid }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk;
    });
    child.on('error', (spawnError: NodeJS.ErrnoException) => {
      resolvePromise({ code: null, signal: null, stdout, stderr, spawnError });
    });
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/**
 * The environment PostgreSQL and its tools are started with: enough to run,
 * nothing inherited that could carry a secret (PGWARDEN_ADMIN_PASSWORD,
 * PGPASSWORD, cloud credentials) into another process's environment.
 */
export function minimalEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LC_ALL: 'C',
    TZ: 'UTC',
  };
}
