import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import { openServerContext, type ServerContext } from '../server/server-context.js';
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
  });
}
