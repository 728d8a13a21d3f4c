import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgwardenError } from '../../errors.js';
import type { ListenAddress } from '../../gateway/gateway.js';
import { initCluster } from '../../server/cluster-init.js';
import { logTail } from '../../server/postgres-process.js';
import type { ServerContext } from '../../server/server-context.js';
import { liveSupervisor, readSupervisor, supervise } from '../../server/supervisor.js';
import type { CliIo, Command, CommandInput } from '../cli-io.js';
import { serverCommandContext } from '../command-context.js';
import { reportInit } from './init.js';

export const upCommand: Command = {
  name: 'up',
  summary:
    'Initialise on first use, start PostgreSQL and stay in the foreground (--detach: return once ready).',
  usage: 'pgwarden up [--detach] [--data-dir DIR] [--pg-bin DIR] [--admin-user NAME]',
  flags: ['detach'],
  async run(input) {
    const ctx = await serverCommandContext(input, { createOsUser: true });
    const running = liveSupervisor(ctx.layout);
    if (running !== undefined) {
      input.io.out(
        `pgwarden: already running (supervisor pid ${running.pid}, PostgreSQL pid ${running.postgresPid ?? '?'})`,
      );
      return 0;
    }
    ctx.progress(
      `PostgreSQL ${ctx.binaries.version} (${ctx.binaries.source}: ${ctx.binaries.binDir})`,
    );
    const init = await initCluster(ctx, input.io.env.PGWARDEN_ADMIN_PASSWORD);
    if (init.created) reportInit(init, ctx.layout.root, input.io);
    if (input.flags.detach === true) return detach(ctx, input);
    await supervise(ctx, {
      onReady: (pid, listening) => {
        reportReady(ctx, pid, listening, input.io);
        input.io.out('pgwarden: press Ctrl-C to stop');
      },
    });
    input.io.out('pgwarden: stopped');
    return 0;
  },
};

function reportReady(
  ctx: ServerContext,
  postgresPid: number,
  listening: readonly ListenAddress[],
  io: CliIo,
): void {
  io.out(
    `pgwarden: PostgreSQL ${ctx.binaries.version} (pid ${postgresPid}) on its private socket ${ctx.layout.socketPath}`,
  );
  const where = listening.map((l) =>
    l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`,
  );
  io.out(`pgwarden: ready: the gateway listens on ${where.join(', ')} (TLS required)`);
}

/**
 * Runs `pgwarden up` (without --detach) as a background supervisor whose
 * output goes to log/supervisor.log, and returns once it reports ready.
 */
async function detach(ctx: ServerContext, input: CommandInput): Promise<number> {
  const { layout } = ctx;
  const logFd = openSync(layout.supervisorLog, 'a', 0o600);
  const logOffset = statSync(layout.supervisorLog).size;
  const script = process.argv[1];
  if (script === undefined)
    throw new PgwardenError('PGW_INTERNAL', 'cannot find the pgwarden script to detach', {
      hint: 'run pgwarden through its bin script or node dist/src/cli/main.js',
    });
  const env = { ...process.env, ...input.io.env };
  delete env.PGWARDEN_ADMIN_PASSWORD; // init is done; the supervisor needs no secret
  const child = spawn(
    process.execPath,
    [...process.execArgv, script, 'up', ...forwardedArgs(input.argv), '--data-dir', layout.root],
    { cwd: input.io.cwd, env, detached: true, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });
  child.unref();
  const deadline = Date.now() + (ctx.config.server.startTimeoutSeconds + 30) * 1000;
  while (Date.now() < deadline) {
    const record = readSupervisor(layout);
    if (
      record !== undefined &&
      record.pid === child.pid &&
      record.state === 'ready' &&
      record.postgresPid !== null
    ) {
      reportReady(ctx, record.postgresPid, record.gateway?.listening ?? [], input.io);
      input.io.out(
        `pgwarden: running in the background (supervisor pid ${child.pid}); stop it with pgwarden down`,
      );
      return 0;
    }
    if (exitCode !== undefined) break;
    await sleep(50);
  }
  if (exitCode === undefined) child.kill('SIGTERM');
  throw new PgwardenError(
    'PGW_SERVER_START_FAILED',
    'the background supervisor did not become ready',
    {
      details: logTail(layout.supervisorLog, logOffset),
      hint: `see ${layout.supervisorLog}`,
    },
  );
}

/** The original arguments minus --detach and --data-dir (passed again as an absolute path). */
function forwardedArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--detach') continue;
    if (arg === '--data-dir') {
      i++;
      continue;
    }
    if (arg.startsWith('--data-dir=')) continue;
    out.push(arg);
  }
  return out;
}
