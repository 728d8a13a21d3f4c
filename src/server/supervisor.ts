import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePgauditExtension } from '../control/audit/server-side-audit.js';
import { STATE_DATABASE, withControl } from '../control/control-client.js';
import { migrateState } from '../control/state/migrate-state.js';
import { PgwardenError } from '../errors.js';
import { Gateway, type ListenAddress } from '../gateway/gateway.js';
import { assertSameMajor, inspectDataDir, writeFileAtomic } from './data-dir.js';
import type { DataDirLayout } from './data-dir-layout.js';
import {
  adoptPostgres,
  isAlive,
  logTail,
  type PostgresHandle,
  runningPostmaster,
  startPostgres,
  stopPostgres,
} from './postgres-process.js';
import type { ServerContext } from './server-context.js';

/** Contents of pgwarden.pid while a supervisor (`pgwarden up`) runs. */
export interface SupervisorRecord {
  readonly pid: number;
  readonly state: 'starting' | 'ready' | 'stopping';
  readonly postgresPid: number | null;
  readonly startedAt: string;
  /** Where the gateway listens, once it does. */
  readonly gateway?: { readonly listening: readonly ListenAddress[] };
}

export function readSupervisor(layout: DataDirLayout): SupervisorRecord | undefined {
  try {
    return JSON.parse(readFileSync(layout.supervisorPid, 'utf8')) as SupervisorRecord;
  } catch {
    return undefined;
  }
}

/** The live supervisor of this data directory; a stale pid file (crash, reused pid) counts as none. */
export function liveSupervisor(layout: DataDirLayout): SupervisorRecord | undefined {
  const record = readSupervisor(layout);
  if (record === undefined || record.pid === process.pid || !isAlive(record.pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    if (!/pgwarden|cli\/main\.js/.test(cmdline)) return undefined;
  } catch {
    // No /proc (not Linux): trust the pid.
  }
  return record;
}

/** Throws unless the data directory holds a ready cluster of the chosen binaries' major. */
export function assertInitialised(ctx: ServerContext): void {
  const state = inspectDataDir(ctx.layout);
  if (state.kind !== 'ready') {
    throw new PgwardenError(
      'PGW_DATA_DIR_NOT_INITIALISED',
      `${ctx.layout.root} is not initialised`,
      {
        hint: 'run `pgwarden init` or `pgwarden up` first',
      },
    );
  }
  assertSameMajor(ctx.layout, state.pgMajor, ctx.binaries.major);
}

export interface SuperviseHooks {
  /** Called once PostgreSQL accepts connections, the state schema is current and the gateway listens. */
  readonly onReady?: (postgresPid: number, listening: readonly ListenAddress[]) => void;
}

/**
 * Runs PostgreSQL under this process until SIGINT/SIGTERM (fast shutdown) or
 * until PostgreSQL dies (PGW_SERVER_EXITED with its last log lines). SIGHUP is
 * passed on so PostgreSQL reloads its configuration. A postmaster left running
 * by a supervisor that crashed is adopted rather than restarted.
 */
export async function supervise(ctx: ServerContext, hooks: SuperviseHooks = {}): Promise<void> {
  const { layout, config } = ctx;
  assertInitialised(ctx);
  const startedAt = new Date().toISOString();
  let gateway: Gateway | undefined;
  const record = (state: SupervisorRecord['state'], postgresPid: number | null): void => {
    const entry: SupervisorRecord = {
      pid: process.pid,
      state,
      postgresPid,
      startedAt,
      ...(gateway === undefined ? {} : { gateway: { listening: gateway.listening() } }),
    };
    writeFileAtomic(layout.supervisorPid, `${JSON.stringify(entry)}\n`, 0o600);
  };

  let stopRequested!: () => void;
  const stopSignal = new Promise<'stop'>((resolveStop) => {
    stopRequested = () => resolveStop('stop');
  });
  const onStop = (): void => stopRequested();
  let postgres: PostgresHandle | undefined;
  const reloadGateway = async (): Promise<void> => {
    try {
      const fresh = ctx.reloadConfig();
      const needsRestart =
        (await gateway?.reload(fresh.gateway, fresh.audit, {
          guardrails: fresh.guardrails,
          passwords: fresh.passwords,
        })) ?? [];
      ctx.progress(
        needsRestart.length === 0
          ? 'configuration reloaded'
          : `configuration reloaded; ${needsRestart.join(', ')} take effect at the next restart`,
      );
    } catch (error) {
      ctx.progress(`configuration not reloaded: ${(error as Error).message}`);
    }
  };
  const onHup = (): void => {
    if (postgres !== undefined) process.kill(postgres.pid, 'SIGHUP');
    void reloadGateway();
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHup);
  record('starting', null);
  try {
    const orphan = runningPostmaster(layout);
    if (orphan !== undefined) {
      ctx.progress(
        `PostgreSQL (pid ${orphan.pid}) is already running without a supervisor; supervising it`,
      );
      postgres = adoptPostgres(orphan.pid);
    } else {
      ctx.progress(`starting PostgreSQL ${ctx.binaries.version}`);
      postgres = await startPostgres({
        layout,
        binaries: ctx.binaries,
        runAs: ctx.runAs,
        timeoutSeconds: config.server.startTimeoutSeconds,
        progress: ctx.progress,
      });
    }
    await withControl(layout.socketDir, STATE_DATABASE, (client) => migrateState(client));
    if (await ensurePgauditExtension(layout.socketDir).catch(() => false)) {
      ctx.progress('pgaudit is active on the server');
    }
    gateway = await Gateway.start(
      layout,
      config.gateway,
      config.audit,
      config.backend,
      (warning) => ctx.progress(`warning: ${warning}`),
      { guardrails: config.guardrails, passwords: config.passwords },
      config.detection,
    );
    record('ready', postgres.pid);
    hooks.onReady?.(postgres.pid, gateway.listening());

    const outcome = await Promise.race([stopSignal, postgres.exited.then(() => 'exited' as const)]);
    if (outcome === 'exited') {
      throw new PgwardenError(
        'PGW_SERVER_EXITED',
        `PostgreSQL (pid ${postgres.pid}) exited unexpectedly`,
        {
          details: logTail(layout.postgresLog),
          hint: `see ${layout.postgresLog}; run pgwarden up again to restart it`,
        },
      );
    }
    record('stopping', postgres.pid);
    ctx.progress(
      `stopping the gateway (sessions have ${config.gateway.shutdownTimeoutSeconds} s to finish)`,
    );
    await gateway.stop(config.gateway.shutdownTimeoutSeconds);
    ctx.progress('stopping PostgreSQL (fast shutdown)');
    await stopPostgres(postgres, config.server.stopTimeoutSeconds);
  } catch (error) {
    await gateway?.stop(0).catch(() => undefined);
    if (postgres !== undefined && isAlive(postgres.pid)) {
      await stopPostgres(postgres, config.server.stopTimeoutSeconds).catch(() => undefined);
    }
    throw error;
  } finally {
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
    process.off('SIGHUP', onHup);
    if (readSupervisor(layout)?.pid === process.pid) rmSync(layout.supervisorPid, { force: true });
  }
}

export type StopOutcome = 'stopped' | 'not-running';

/** Stops the supervisor (which stops PostgreSQL), or an unsupervised postmaster. */
export async function stopServer(ctx: ServerContext): Promise<StopOutcome> {
  const { layout, config } = ctx;
  let stopped = false;
  const supervisor = liveSupervisor(layout);
  if (supervisor !== undefined) {
    process.kill(supervisor.pid, 'SIGTERM');
    // The supervisor first gives gateway sessions their grace period, then stops PostgreSQL.
    const deadline =
      Date.now() +
      (config.gateway.shutdownTimeoutSeconds + config.server.stopTimeoutSeconds + 20) * 1000;
    while (isAlive(supervisor.pid)) {
      if (Date.now() > deadline) {
        throw new PgwardenError(
          'PGW_SERVER_STOP_FAILED',
          `the pgwarden supervisor (pid ${supervisor.pid}) did not stop`,
          {
            hint: `see ${layout.supervisorLog}`,
          },
        );
      }
      await sleep(50);
    }
    stopped = true;
  }
  const orphan = runningPostmaster(layout);
  if (orphan !== undefined) {
    await stopPostgres(adoptPostgres(orphan.pid), config.server.stopTimeoutSeconds);
    stopped = true;
  }
  if (readSupervisor(layout) !== undefined && liveSupervisor(layout) === undefined) {
    rmSync(layout.supervisorPid, { force: true });
  }
  return stopped ? 'stopped' : 'not-running';
}
