import type { Config } from '../config/config-schema.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { RunAs } from '../util/run-command.js';
import { inspectDataDir } from './data-dir.js';
import { type DataDirLayout, dataDirLayout } from './data-dir-layout.js';
import { ensureOsUser, isRoot } from './os-user.js';
import { type PgBinaries, resolveBinaries } from './pg-binaries.js';

/** Everything the server commands need, resolved once per command. */
export interface ServerContext {
  readonly config: Config;
  readonly configPath: string | undefined;
  readonly layout: DataDirLayout;
  readonly binaries: PgBinaries;
  /** The OS user PostgreSQL runs as when pgwarden is root; undefined otherwise. */
  readonly runAs: RunAs | undefined;
  readonly progress: (line: string) => void;
  /** Reads the configuration again from the same sources (SIGHUP). */
  readonly reloadConfig: () => Config;
}

export interface OpenContextOptions {
  readonly progress?: (line: string) => void;
  /** Create the unprivileged OS user if missing (init/up); read-only commands pass false. */
  readonly createOsUser?: boolean;
  readonly reloadConfig?: () => Config;
}

export async function openServerContext(
  loaded: LoadedConfig,
  options: OpenContextOptions = {},
): Promise<ServerContext> {
  const layout = dataDirLayout(loaded.dataDir);
  const { chosen } = await resolveBinaries(loaded.config.server.pgBin, clusterMajorOf(layout));
  const runAs =
    options.createOsUser === false && isRoot()
      ? undefined
      : await ensureOsUser(loaded.config.server.osUser);
  return {
    config: loaded.config,
    configPath: loaded.configPath,
    layout,
    binaries: chosen,
    runAs,
    progress: options.progress ?? (() => undefined),
    reloadConfig: options.reloadConfig ?? (() => loaded.config),
  };
}

/** The major version of the cluster in the data directory, if it is initialised and readable. */
function clusterMajorOf(layout: DataDirLayout): number | undefined {
  try {
    const state = inspectDataDir(layout);
    return state.kind === 'ready' ? state.pgMajor : undefined;
  } catch {
    return undefined; // the command itself reports what is wrong with the directory
  }
}
