import { type InitResult, initCluster } from '../../server/cluster-init.js';
import type { CliIo, Command } from '../cli-io.js';
import { serverCommandContext } from '../command-context.js';

export const initCommand: Command = {
  name: 'init',
  summary:
    'Initialise the managed PostgreSQL cluster with secure defaults (up does this on first use).',
  usage: 'pgwarden init [--data-dir DIR] [--admin-user NAME] [--pg-bin DIR]',
  flags: [],
  async run(input) {
    const ctx = await serverCommandContext(input, { createOsUser: true });
    const result = await initCluster(ctx, input.io.env.PGWARDEN_ADMIN_PASSWORD);
    reportInit(result, ctx.layout.root, input.io);
    return 0;
  },
};

/** Prints the outcome of init; a generated password is shown this once. */
export function reportInit(result: InitResult, dataDir: string, io: CliIo): void {
  if (!result.created) {
    io.out(`pgwarden: ${dataDir} is already initialised`);
    return;
  }
  io.out(`pgwarden: initialised ${dataDir}`);
  io.out(`pgwarden: administrator login "${result.adminUser}" (member of pgwarden_admin)`);
  if (result.generatedPassword !== undefined) {
    io.out('pgwarden: its password, shown only this once, is also saved (mode 0600) in');
    io.out(`pgwarden:   ${result.passwordFile}`);
    io.out('');
    io.out(`    ${result.generatedPassword}`);
    io.out('');
  } else {
    io.out(
      `pgwarden: its password is the one given in PGWARDEN_ADMIN_PASSWORD, saved in ${result.passwordFile}`,
    );
  }
}
