import { stopServer } from '../../server/supervisor.js';
import type { Command } from '../cli-io.js';
import { serverCommandContext } from '../command-context.js';

export const downCommand: Command = {
  name: 'down',
  summary: 'Stop PostgreSQL cleanly (fast shutdown) and the supervisor.',
  usage: 'pgwarden down [--data-dir DIR]',
  flags: [],
  async run(input) {
    const ctx = await serverCommandContext(input, { createOsUser: false });
    const outcome = await stopServer(ctx);
    input.io.out(outcome === 'stopped' ? 'pgwarden: stopped' : 'pgwarden: not running');
    return 0;
  },
};
