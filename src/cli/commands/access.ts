import { PgwardenError } from '../../errors.js';
import type { Command } from '../cli-io.js';
import { ACCESS_JIT_FLAGS, ACCESS_JIT_USAGE, accessJit, JIT_SUBCOMMANDS } from './access-jit.js';
import { ACCESS_POLICY_FLAGS, ACCESS_POLICY_USAGE, accessPolicy } from './access-policy.js';

const USAGE = `${ACCESS_POLICY_USAGE}\n       ${ACCESS_JIT_USAGE}`;

/** `pgwarden access`: conditional access policies, and just-in-time role grants. */
export const accessCommand: Command = {
  name: 'access',
  summary: 'Conditional access policies, and just-in-time role grants (request, approve, expire).',
  usage: USAGE,
  flags: [...new Set([...ACCESS_POLICY_FLAGS, ...ACCESS_JIT_FLAGS])],
  async run(input) {
    const [group] = input.args;
    if (group === 'policy') return accessPolicy(input);
    if (group !== undefined && JIT_SUBCOMMANDS.includes(group)) return accessJit(input);
    throw new PgwardenError(
      'PGW_USAGE',
      group === undefined ? 'access needs a subcommand' : `unknown access subcommand "${group}"`,
      { hint: `usage: ${USAGE}` },
    );
  },
};
