import { configJsonSchema } from '../../config/config-schema.js';
import { PgwardenError } from '../../errors.js';
import type { Command } from '../cli-io.js';
import { loadCommandConfig } from '../command-context.js';

export const configCommand: Command = {
  name: 'config',
  summary:
    'Print the JSON Schema of pgwarden.yaml (schema) or the effective settings and their sources (show).',
  usage: 'pgwarden config schema | pgwarden config show [--json]',
  flags: ['json'],
  async run(input) {
    const [sub] = input.args;
    if (sub === 'schema') {
      input.io.out(JSON.stringify(configJsonSchema(), null, 2));
      return 0;
    }
    if (sub === 'show') {
      const loaded = loadCommandConfig(input);
      const view = {
        dataDir: loaded.dataDir,
        configPath: loaded.configPath ?? null,
        config: loaded.config,
        sources: loaded.sources,
      };
      if (input.flags.json === true) {
        input.io.out(JSON.stringify(view, null, 2));
      } else {
        input.io.out(`data dir  ${view.dataDir}`);
        input.io.out(`config    ${view.configPath ?? '(none)'}`);
        for (const [key, value] of Object.entries(loaded.config.server)) {
          input.io.out(
            `server.${key} = ${JSON.stringify(value)}  (${loaded.sources[`server.${key}`] ?? 'file or default'})`,
          );
        }
      }
      return 0;
    }
    throw new PgwardenError(
      'PGW_USAGE',
      sub === undefined ? 'config needs a subcommand' : `unknown config subcommand "${sub}"`,
      {
        hint: `usage: ${configCommand.usage}`,
      },
    );
  },
};
