import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import { PgwardenError } from '../errors.js';
import { runningPostmaster } from '../server/postgres-process.js';
import { openServerContext, type ServerContext } from '../server/server-context.js';
import { assertInitialised } from '../server/supervisor.js';
import type { CommandInput } from './cli-io.js';

export function loadCommandConfig(input: CommandInput): LoadedConfig {
  return loadConfig({ flags: input.flags, env: input.io.env, cwd: input.io.cwd });
}

/** Config, binaries and OS user for a server command; progress lines go to stdout. */
export async function serverCommandContext(
  input: CommandInput,
  options: { readonly createOsUser: boolean },
): Promise<ServerContext> {
  return openServerContext(loadCommandConfig(input), {
    createOsUser: options.createOsUser,
    progress: (line) => input.io.out(`pgwarden: ${line}`),
    reloadConfig: () => loadCommandConfig(input).config,
  });
}

/** A server context for commands that need PostgreSQL running (they talk to the state database). */
export async function runningServerContext(input: CommandInput): Promise<ServerContext> {
  const ctx = await serverCommandContext(input, { createOsUser: false });
  assertInitialised(ctx);
  if (runningPostmaster(ctx.layout) === undefined) {
    throw new PgwardenError(
      'PGW_SERVER_NOT_RUNNING',
      `the server in ${ctx.layout.root} is not running`,
      {
        hint: 'start it with pgwarden up --detach',
      },
    );
  }
  return ctx;
}
