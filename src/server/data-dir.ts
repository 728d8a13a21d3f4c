import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { PgwardenError } from '../errors.js';
import type { RunAs } from '../util/run-command.js';
import type { DataDirLayout } from './data-dir-layout.js';

/** Metadata in pgwarden.json; its presence is what makes a directory pgwarden's. */
export interface DataDirMeta {
  readonly format: 1;
  readonly state: 'initialising' | 'ready';
  readonly createdAt: string;
  readonly pgMajor: number;
  readonly adminUser: string;
  readonly osUser: string | null;
}

export type DataDirState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'initialising'; readonly meta: DataDirMeta }
  | { readonly kind: 'ready'; readonly meta: DataDirMeta; readonly pgMajor: number };

/** Files a user may put in a data directory before `init`. */
const ALLOWED_BEFORE_INIT = new Set(['pgwarden.yaml']);

/** Linux sun_path is 108 bytes with the terminating NUL (unix(7)). */
const MAX_SOCKET_PATH = 107;

export function inspectDataDir(layout: DataDirLayout): DataDirState {
  const { root } = layout;
  let isDirectory: boolean;
  try {
    isDirectory = lstatSync(root).isDirectory();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'absent' };
    if (code === 'ENOTDIR') throw notDirectory(root);
    throw notWritable(root, cause);
  }
  if (!isDirectory) throw notDirectory(root);
  if (!existsSync(layout.meta)) {
    const foreign = listDir(root).filter((name) => !ALLOWED_BEFORE_INIT.has(name));
    if (foreign.length === 0) return { kind: 'empty' };
    const looksLikeCluster = foreign.includes('PG_VERSION');
    throw new PgwardenError(
      'PGW_DATA_DIR_NOT_EMPTY',
      looksLikeCluster
        ? `${root} is a PostgreSQL data directory that pgwarden did not create; pgwarden will not touch it`
        : `${root} is not empty and is not a pgwarden data directory (found ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`,
      { hint: 'choose an empty or new directory with --data-dir' },
    );
  }
  const meta = readMeta(layout);
  if (meta.state === 'initialising') return { kind: 'initialising', meta };
  return { kind: 'ready', meta, pgMajor: readPgMajor(layout) };
}

/** Refuses binaries of another major than the cluster's (pg_upgrade is the way across). */
export function assertSameMajor(
  layout: DataDirLayout,
  clusterMajor: number,
  binMajor: number,
): void {
  if (clusterMajor === binMajor) return;
  throw new PgwardenError(
    'PGW_DATA_DIR_VERSION_MISMATCH',
    `${layout.root} holds a PostgreSQL ${clusterMajor} cluster, but the binaries chosen are PostgreSQL ${binMajor}`,
    {
      hint: `point --pg-bin at PostgreSQL ${clusterMajor} binaries (see pgwarden doctor), or upgrade the cluster with pg_upgrade`,
    },
  );
}

/**
 * Creates the data directory skeleton with private modes. When PostgreSQL runs
 * as another OS user, that user owns pgdata/ and run/ and gets search (x)
 * permission on the root through its group, nothing more (mode 0710).
 */
export function createSkeleton(layout: DataDirLayout, runAs: RunAs | undefined): void {
  if (Buffer.byteLength(layout.socketPath) > MAX_SOCKET_PATH) {
    throw new PgwardenError(
      'PGW_SOCKET_PATH_TOO_LONG',
      `the socket path ${layout.socketPath} is longer than ${MAX_SOCKET_PATH} bytes`,
      { hint: 'choose a data directory with a shorter path' },
    );
  }
  makeDir(layout.root, 0o700);
  assertWritable(layout.root);
  if (runAs !== undefined) {
    chownSync(layout.root, process.getuid?.() ?? 0, runAs.gid);
    chmodSync(layout.root, 0o710);
  }
  makeDir(layout.logDir, 0o700);
  for (const dir of [layout.pgdata, layout.socketDir]) {
    makeDir(dir, 0o700);
    chmodSync(dir, 0o700);
    if (runAs !== undefined) chownSync(dir, runAs.uid, runAs.gid);
  }
}

/** Removes what an interrupted init left behind; pgwarden.json said "initialising", so no user data is lost. */
export function discardPartialInit(layout: DataDirLayout): void {
  rmSync(layout.pgdata, { recursive: true, force: true });
  rmSync(layout.adminPassword, { force: true });
}

export function readMeta(layout: DataDirLayout): DataDirMeta {
  try {
    const meta = JSON.parse(readFileSync(layout.meta, 'utf8')) as DataDirMeta;
    if (meta.format !== 1 || (meta.state !== 'initialising' && meta.state !== 'ready')) {
      throw new Error(`unknown format ${String(meta.format)}`);
    }
    return meta;
  } catch (cause) {
    throw new PgwardenError(
      'PGW_DATA_DIR_NOT_EMPTY',
      `${layout.meta} is not a pgwarden metadata file`,
      {
        hint: 'restore it from a backup, or choose another --data-dir',
        cause,
      },
    );
  }
}

export function writeMeta(layout: DataDirLayout, meta: DataDirMeta): void {
  writeFileAtomic(layout.meta, `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}

/** Writes via a temporary file and rename, so a crash never leaves half a file. */
export function writeFileAtomic(path: string, content: string, mode: number, owner?: RunAs): void {
  const tmp = join(dirname(path), `.${Date.now()}.${process.pid}.tmp`);
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  if (owner !== undefined) chownSync(tmp, owner.uid, owner.gid);
  renameSync(tmp, path);
}

function readPgMajor(layout: DataDirLayout): number {
  const file = join(layout.pgdata, 'PG_VERSION');
  try {
    const major = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    if (!Number.isInteger(major)) throw new Error('not a number');
    return major;
  } catch (cause) {
    throw new PgwardenError('PGW_DATA_DIR_NOT_INITIALISED', `${file} is missing or unreadable`, {
      hint: 'the cluster in this data directory is damaged; restore it from a backup',
      cause,
    });
  }
}

function makeDir(path: string, mode: number): void {
  try {
    mkdirSync(path, { recursive: true, mode });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') throw notDirectory(path);
    throw notWritable(path, cause);
  }
  if (!lstatSync(path).isDirectory()) throw notDirectory(path);
}

function assertWritable(dir: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    const probe = join(dir, `.probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (cause) {
    throw notWritable(dir, cause);
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (cause) {
    throw notWritable(dir, cause);
  }
}

function notDirectory(path: string): PgwardenError {
  return new PgwardenError('PGW_DATA_DIR_NOT_DIRECTORY', `${path} exists and is not a directory`, {
    hint: 'choose a directory path with --data-dir or PGWARDEN_DATA_DIR',
  });
}

function notWritable(path: string, cause: unknown): PgwardenError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  return new PgwardenError('PGW_DATA_DIR_NOT_WRITABLE', `cannot write to ${path} (${code})`, {
    hint: 'choose a directory you can write to with --data-dir, or fix its permissions',
    cause,
  });
}
