import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgwardenError } from '../errors.js';
import { minimalEnv, type RunAs } from '../util/run-command.js';
import type { DataDirLayout } from './data-dir-layout.js';
import type { PgBinaries } from './pg-binaries.js';
import { commandLineSettings } from './server-files.js';

export interface PostgresHandle {
  readonly pid: number;
  /** Resolves when the postmaster has exited (polled when it is not our child). */
  readonly exited: Promise<void>;
}

export interface StartOptions {
  readonly layout: DataDirLayout;
  readonly binaries: PgBinaries;
  readonly runAs: RunAs | undefined;
  readonly timeoutSeconds: number;
  readonly progress?: (line: string) => void;
}

/** postmaster.pid as documented in src/include/miscadmin.h (LOCK_FILE_LINE_*). */
export interface PostmasterPid {
  readonly pid: number;
  readonly startedAt: Date;
  readonly status: string;
}

const POLL_MS = 50;
const LOG_TAIL_LINES = 15;

export function readPostmasterPid(layout: DataDirLayout): PostmasterPid | undefined {
  const file = join(layout.pgdata, 'postmaster.pid');
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return {
    pid,
    startedAt: new Date(Number.parseInt(lines[2] ?? '0', 10) * 1000),
    status: (lines[7] ?? '').trim(),
  };
}

/** The running postmaster of this data directory, if there is one. */
export function runningPostmaster(layout: DataDirLayout): PostmasterPid | undefined {
  const info = readPostmasterPid(layout);
  return info !== undefined && isAlive(info.pid) ? info : undefined;
}

/** Whether `pid` names a live process; a zombie (exited, not yet reaped) counts as gone. */
export function isAlive(pid: number): boolean {
  return processState(pid) === 'alive';
}

function processState(pid: number): 'alive' | 'zombie' | 'gone' {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'gone';
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state === 'Z' ? 'zombie' : 'alive';
  } catch {
    return 'alive'; // no /proc: trust kill(0)
  }
}

/**
 * After a crash, PostgreSQL refuses its own stale lock files while the old
 * postmaster's pid still answers kill(0), which a zombie does: in containers
 * whose init never reaps orphans, it answers forever. When the recorded
 * postmaster is a zombie and no live process still works in the data
 * directory (backends run with it as their cwd), the locks are provably stale
 * and are removed; otherwise they are left for PostgreSQL to judge.
 */
export function clearZombieLocks(layout: DataDirLayout, progress: (line: string) => void): void {
  const info = readPostmasterPid(layout);
  if (info === undefined || processState(info.pid) !== 'zombie') return;
  const users = processesIn(layout.pgdata);
  if (users.length > 0) {
    throw new PgwardenError(
      'PGW_SERVER_START_FAILED',
      `PostgreSQL processes of a crashed server still use ${layout.pgdata} (pids ${users.join(', ')})`,
      { hint: 'stop those processes, then run pgwarden up again' },
    );
  }
  progress(`removing the lock files of crashed PostgreSQL (pid ${info.pid}, exited)`);
  rmSync(join(layout.pgdata, 'postmaster.pid'), { force: true });
  rmSync(`${layout.socketPath}.lock`, { force: true });
}

/** Live processes whose working directory is `dir` (Linux /proc; empty elsewhere). */
function processesIn(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const target = realpathSync(dir);
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (
        readlinkSync(`/proc/${entry}/cwd`) === target &&
        processState(Number(entry)) === 'alive'
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // exited meanwhile, or not ours to inspect
    }
  }
  return pids;
}

/**
 * Starts the postmaster in its own process group (so a terminal's Ctrl-C
 * reaches only the supervisor, which then shuts PostgreSQL down in order),
 * as the unprivileged OS user, with a minimal environment, and waits until
 * postmaster.pid reports "ready".
 */
export async function startPostgres(options: StartOptions): Promise<PostgresHandle> {
  const { layout, binaries, runAs } = options;
  clearZombieLocks(layout, options.progress ?? (() => undefined));
  const logFd = openSync(layout.postgresLog, 'a', 0o600);
  const logOffset = statSync(layout.postgresLog).size;
  let spawnError: Error | undefined;
  let exitedEarly = false;
  const child = spawn(
    join(binaries.binDir, 'postgres'),
    ['-D', layout.pgdata, ...commandLineSettings(layout)],
    {
      cwd: layout.pgdata,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: minimalEnv(),
      ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
    },
  );
  closeSync(logFd);
  const exited = new Promise<void>((resolveExit) => {
    child.once('error', (error) => {
      spawnError = error;
      exitedEarly = true;
      resolveExit();
    });
    child.once('exit', () => {
      exitedEarly = true;
      resolveExit();
    });
  });
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if (exitedEarly || child.pid === undefined) {
      throw startFailed(
        layout,
        logOffset,
        spawnError === undefined
          ? 'PostgreSQL exited during startup'
          : `cannot run postgres (${spawnError.message})`,
      );
    }
    const info = readPostmasterPid(layout);
    if (info?.pid === child.pid && info.status === 'ready') return { pid: child.pid, exited };
    await sleep(POLL_MS);
  }
  if (child.pid !== undefined) await stopPostgres({ pid: child.pid, exited }, 10);
  throw startFailed(
    layout,
    logOffset,
    `PostgreSQL was not ready within ${options.timeoutSeconds} s`,
  );
}

/** A handle on a postmaster pgwarden did not start itself (found running after a supervisor crash). */
export function adoptPostgres(pid: number): PostgresHandle {
  const exited = (async () => {
    while (isAlive(pid)) await sleep(250);
  })();
  return { pid, exited };
}

/**
 * Fast shutdown (SIGINT: roll back open transactions, disconnect, checkpoint;
 * docs 19.5 "Shutting Down the Server"), escalating to immediate shutdown
 * (SIGQUIT) after the timeout and to SIGKILL as a last resort.
 */
export async function stopPostgres(handle: PostgresHandle, timeoutSeconds: number): Promise<void> {
  const steps: [NodeJS.Signals, number][] = [
    ['SIGINT', timeoutSeconds * 1000],
    ['SIGQUIT', 10_000],
    ['SIGKILL', 5_000],
  ];
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(handle.pid, signal);
    } catch {
      return; // already gone
    }
    if (await settlesWithin(handle.exited, waitMs)) return;
  }
  throw new PgwardenError('PGW_SERVER_STOP_FAILED', `PostgreSQL (pid ${handle.pid}) did not stop`, {
    hint: 'it ignored even SIGKILL; check the process state (ps) and the system log',
  });
}

/** Whether `promise` settles within `ms`; the timer is cleared either way so it never holds the process open. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(() => true),
      sleep(ms, false, { signal: timer.signal }),
    ]);
  } finally {
    timer.abort();
  }
}

/** The last lines PostgreSQL wrote to its log since `offset`. */
export function logTail(file: string, offset = 0, lines = LOG_TAIL_LINES): string[] {
  if (!existsSync(file)) return [];
  const size = statSync(file).size;
  const start = Math.max(offset, size - 64 * 1024);
  if (size <= start) return [];
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  return buffer
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines);
}

function startFailed(layout: DataDirLayout, logOffset: number, message: string): PgwardenError {
  const tail = logTail(layout.postgresLog, logOffset);
  return new PgwardenError('PGW_SERVER_START_FAILED', message, {
    hint: `see ${layout.postgresLog}; the last lines PostgreSQL wrote are shown above`,
    details: tail.length > 0 ? tail : ['(PostgreSQL wrote nothing to its log)'],
  });
}
