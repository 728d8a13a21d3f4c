import { withControl } from '../control/control-client.js';
import { inspectDataDir } from './data-dir.js';
import { runningPostmaster } from './postgres-process.js';
import type { ServerContext } from './server-context.js';
import { liveSupervisor } from './supervisor.js';

export type ServerState =
  | 'not-initialised'
  | 'initialising'
  | 'stopped'
  | 'starting'
  | 'running'
  | 'unsupervised';

export interface ServerStatus {
  readonly state: ServerState;
  readonly dataDir: string;
  readonly socketPath: string;
  readonly configPath: string | null;
  readonly adminUser: string | null;
  readonly binaries: { readonly source: string; readonly binDir: string; readonly version: string };
  readonly postgres: {
    readonly pid: number;
    readonly version: string;
    readonly startedAt: string;
  } | null;
  readonly supervisor: { readonly pid: number; readonly state: string } | null;
}

export async function serverStatus(ctx: ServerContext): Promise<ServerStatus> {
  const { layout, binaries } = ctx;
  const dir = inspectDataDir(layout);
  const base = {
    dataDir: layout.root,
    socketPath: layout.socketPath,
    configPath: ctx.configPath ?? null,
    adminUser: dir.kind === 'ready' || dir.kind === 'initialising' ? dir.meta.adminUser : null,
    binaries: { source: binaries.source, binDir: binaries.binDir, version: binaries.version },
  };
  if (dir.kind === 'absent' || dir.kind === 'empty') {
    return { ...base, state: 'not-initialised', postgres: null, supervisor: null };
  }
  if (dir.kind === 'initialising')
    return { ...base, state: 'initialising', postgres: null, supervisor: null };
  const sup = liveSupervisor(layout);
  const supervisor = sup === undefined ? null : { pid: sup.pid, state: sup.state };
  const postmaster = runningPostmaster(layout);
  if (postmaster === undefined) {
    return {
      ...base,
      state: supervisor === null ? 'stopped' : 'starting',
      postgres: null,
      supervisor,
    };
  }
  const version = await withControl(layout.socketDir, 'postgres', async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? binaries.version;
  }).catch(() => binaries.version);
  const state: ServerState =
    supervisor === null ? 'unsupervised' : supervisor.state === 'ready' ? 'running' : 'starting';
  return {
    ...base,
    state,
    postgres: { pid: postmaster.pid, version, startedAt: postmaster.startedAt.toISOString() },
    supervisor,
  };
}
