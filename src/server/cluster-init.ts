import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import {
  generatePassword,
  isAcceptablePassword,
  scramSha256Verifier,
} from '../auth/scram-secret.js';
import {
  bootstrapRolesSql,
  createStateDatabase,
  HARDEN_DATABASE_SQL,
} from '../control/bootstrap-roles.js';
import { INTERNAL_SUPERUSER, STATE_DATABASE, withControl } from '../control/control-client.js';
import { migrateState } from '../control/state/migrate-state.js';
import { PgwardenError } from '../errors.js';
import { minimalEnv, runCommand } from '../util/run-command.js';
import {
  assertSameMajor,
  createSkeleton,
  type DataDirMeta,
  discardPartialInit,
  inspectDataDir,
  writeFileAtomic,
  writeMeta,
} from './data-dir.js';
import { startPostgres, stopPostgres } from './postgres-process.js';
import type { ServerContext } from './server-context.js';
import { writeServerFiles } from './server-files.js';

export interface InitResult {
  readonly created: boolean;
  readonly adminUser: string;
  /** The generated password, to show once; undefined when given by the user or already initialised. */
  readonly generatedPassword: string | undefined;
  readonly passwordFile: string;
}

/**
 * Initialises a managed cluster with secure defaults (idempotent: an
 * initialised directory is left as it is; an interrupted init is redone).
 */
export async function initCluster(
  ctx: ServerContext,
  adminPassword: string | undefined,
): Promise<InitResult> {
  const { layout, binaries, config } = ctx;
  const adminUser = config.server.adminUser;
  const state = inspectDataDir(layout);
  if (state.kind === 'ready') {
    assertSameMajor(layout, state.pgMajor, binaries.major);
    return {
      created: false,
      adminUser: state.meta.adminUser,
      generatedPassword: undefined,
      passwordFile: layout.adminPassword,
    };
  }
  if (adminPassword !== undefined && !isAcceptablePassword(adminPassword)) {
    throw new PgwardenError(
      'PGW_CONFIG_INVALID',
      'PGWARDEN_ADMIN_PASSWORD must be 12 to 256 printable ASCII characters without leading or trailing spaces',
      { hint: 'unset it to have pgwarden generate a strong password' },
    );
  }
  if (state.kind === 'initialising') {
    ctx.progress('a previous init did not finish; starting it again');
    discardPartialInit(layout);
  }
  createSkeleton(layout, ctx.runAs);
  const meta: DataDirMeta = {
    format: 1,
    state: 'initialising',
    createdAt: new Date().toISOString(),
    pgMajor: binaries.major,
    adminUser,
    osUser: ctx.runAs?.name ?? null,
  };
  writeMeta(layout, meta);
  await preflight(ctx);

  ctx.progress(`initialising PostgreSQL ${binaries.version} cluster in ${layout.pgdata}`);
  await runInitdb(ctx);
  writeServerFiles(layout, controlOsUsers(ctx), ctx.runAs);

  const password = adminPassword ?? generatePassword();
  const postgres = await startPostgres({
    layout,
    binaries,
    runAs: ctx.runAs,
    timeoutSeconds: config.server.startTimeoutSeconds,
  });
  try {
    ctx.progress(
      `creating roles ${INTERNAL_SUPERUSER}, pgwarden_admin, ${adminUser} and the ${STATE_DATABASE} database`,
    );
    for (const database of ['template1', 'postgres']) {
      await withControl(layout.socketDir, database, async (client) => {
        for (const sql of HARDEN_DATABASE_SQL) await client.query(sql);
      });
    }
    await withControl(layout.socketDir, 'postgres', async (client) => {
      await client.query('BEGIN');
      for (const sql of bootstrapRolesSql({
        adminUser,
        adminVerifier: scramSha256Verifier(password),
        allowAdminReplication: config.server.allowAdminReplication,
      })) {
        await client.query(sql);
      }
      await client.query('COMMIT');
      await createStateDatabase(client);
    });
    await withControl(layout.socketDir, STATE_DATABASE, (client) => migrateState(client));
  } finally {
    await stopPostgres(postgres, config.server.stopTimeoutSeconds);
  }
  writeFileAtomic(layout.adminPassword, `${password}\n`, 0o600);
  writeMeta(layout, { ...meta, state: 'ready' }); // last: from here on the directory counts as initialised
  return {
    created: true,
    adminUser,
    generatedPassword: adminPassword === undefined ? password : undefined,
    passwordFile: layout.adminPassword,
  };
}

/**
 * initdb with the defaults a managed service uses (docs: initdb): data
 * checksums, UTF8, the C locale (deterministic, no dependency on the host's
 * locales; the builtin C.UTF-8 provider on 17+ for Unicode-aware case mapping),
 * the bootstrap superuser named pgwarden_su, and no password-less TCP access
 * even before pg_hba.conf is rewritten.
 */
async function runInitdb(ctx: ServerContext): Promise<void> {
  const { layout, binaries } = ctx;
  const args = [
    '-D',
    layout.pgdata,
    '-U',
    INTERNAL_SUPERUSER,
    '--auth-local=peer',
    '--auth-host=reject',
    '--encoding=UTF8',
    '--locale=C',
    '--data-checksums',
  ];
  if (binaries.major >= 17) args.push('--locale-provider=builtin', '--builtin-locale=C.UTF-8');
  const result = await runCommand(join(binaries.binDir, 'initdb'), args, {
    runAs: ctx.runAs,
    env: minimalEnv(),
    cwd: layout.pgdata,
  });
  if (result.code !== 0) {
    const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim() !== '');
    throw new PgwardenError(
      'PGW_INITDB_FAILED',
      `initdb exited with ${result.code ?? result.signal ?? 'an error'}`,
      {
        details: lines.slice(-10),
        hint: "the lines above are initdb's own; fix what they name and run the command again",
      },
    );
  }
}

/** Checks, as the PostgreSQL OS user, that it can run the binaries and reach its directories. */
async function preflight(ctx: ServerContext): Promise<void> {
  const { runAs, binaries, layout } = ctx;
  if (runAs === undefined) return;
  const version = await runCommand(join(binaries.binDir, 'postgres'), ['--version'], {
    runAs,
    timeoutMs: 10_000,
  });
  if (version.code !== 0) {
    throw new PgwardenError(
      'PGW_BINARIES_UNUSABLE',
      `OS user "${runAs.name}" cannot run ${join(binaries.binDir, 'postgres')}`,
      {
        hint: `give "${runAs.name}" read and search permission on ${firstClosedAncestor(binaries.binDir) ?? binaries.binDir} (e.g. chmod o+rx), or use system PostgreSQL`,
      },
    );
  }
  const reach = await runCommand('test', ['-w', layout.pgdata], { runAs });
  if (reach.code !== 0) {
    const closed = firstClosedAncestor(layout.root);
    throw new PgwardenError(
      'PGW_DATA_DIR_UNREACHABLE',
      `OS user "${runAs.name}" cannot reach ${layout.pgdata}${closed === undefined ? '' : ` (${closed} is not searchable by others)`}`,
      {
        hint: `grant search permission (chmod o+x) on ${closed ?? 'its parent directories'}, or choose a --data-dir under /srv or /var/lib`,
      },
    );
  }
}

/** The nearest ancestor that others cannot search (mode lacks o+x), if any. */
function firstClosedAncestor(path: string): string | undefined {
  const chain: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  return chain.find((dir) => existsSync(dir) && (statSync(dir).mode & 0o001) === 0);
}

/** OS users whose peer connections map to the internal superuser. */
function controlOsUsers(ctx: ServerContext): string[] {
  const self = userInfo().username;
  return ctx.runAs === undefined ? [self] : [...new Set([self, ctx.runAs.name])];
}
