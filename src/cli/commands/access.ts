import { PgwardenError } from '../../errors.js';
import type { Command } from '../cli-io.js';
import { ACCESS_JIT_FLAGS, ACCESS_JIT_USAGE, accessJit, JIT_SUBCOMMANDS } from './access-jit.js';
import { ACCESS_POLICY_FLAGS, ACCESS_POLICY_USAGE, accessPolicy } from './access-policy.js';
import {
  ACCESS_SPEC_FLAGS,
  ACCESS_SPEC_USAGE,
  accessSpec,
  SPEC_SUBCOMMANDS,
} from './access-spec.js';

const USAGE = `${ACCESS_SPEC_USAGE}\n       ${ACCESS_POLICY_USAGE}\n       ${ACCESS_JIT_USAGE}`;

/** `pgwarden access`: conditional access policies, and just-in-time role grants. */
export const accessCommand: Command = {
  name: 'access',
  summary:
    'Access control as code (plan, apply, drift of a spec), conditional access policies, and just-in-time role grants.',
  usage: USAGE,
  flags: [...new Set([...ACCESS_SPEC_FLAGS, ...ACCESS_POLICY_FLAGS, ...ACCESS_JIT_FLAGS])],
  async run(input) {
    const [group] = input.args;
    if (group === 'policy') return accessPolicy(input);
    if (group !== undefined && SPEC_SUBCOMMANDS.includes(group)) return accessSpec(input);
    if (group !== undefined && JIT_SUBCOMMANDS.includes(group)) return accessJit(input);
    throw new PgwardenError(
      'PGW_USAGE',
      group === undefined ? 'access needs a subcommand' : `unknown access subcommand "${group}"`,
      { hint: `usage: ${USAGE}` },
    );
  },
};
