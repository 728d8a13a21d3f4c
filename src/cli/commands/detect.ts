import { PgwardenError } from '../../errors.js';
import type { Command } from '../cli-io.js';
import {
  DETECT_HONEYTOKEN_FLAGS,
  DETECT_HONEYTOKEN_USAGE,
  detectHoneytoken,
} from './detect-honeytoken.js';

const USAGE = DETECT_HONEYTOKEN_USAGE;

/** `pgwarden detect`: what threat detection watches for (honeytokens). */
export const detectCommand: Command = {
  name: 'detect',
  summary: 'Threat detection set-up: honeytokens (planted or marked rows nobody should read).',
  usage: USAGE,
  flags: DETECT_HONEYTOKEN_FLAGS,
  async run(input) {
    const [group] = input.args;
    if (group === 'honeytoken') return detectHoneytoken(input);
    throw new PgwardenError(
      'PGW_USAGE',
      group === undefined ? 'detect needs a subcommand' : `unknown detect subcommand "${group}"`,
      { hint: `usage: ${USAGE}` },
    );
  },
};
