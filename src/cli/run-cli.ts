import { parseArgs } from 'node:util';
import { OPTIONS } from '../config/options.js';
import { exitCodeFor, isPgwardenError, messageOf, PgwardenError } from '../errors.js';
import type { CliIo, Command } from './cli-io.js';
import { accessCommand } from './commands/access.js';
import { alertsCommand } from './commands/alerts.js';
import { auditCommand } from './commands/audit.js';
import { caCommand } from './commands/ca.js';
import { configCommand } from './commands/config.js';
import { detectCommand } from './commands/detect.js';
import { doctorCommand } from './commands/doctor.js';
import { downCommand } from './commands/down.js';
import { firewallRuleCommand } from './commands/firewall-rule.js';
import { identityCommand } from './commands/identity.js';
import { initCommand } from './commands/init.js';
import { networkCommand } from './commands/network.js';
import { parameterCommand } from './commands/parameter.js';
import { roleCommand } from './commands/role.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { PGWARDEN_VERSION } from './version.js';

export const COMMANDS: readonly Command[] = [
  upCommand,
  downCommand,
  statusCommand,
  initCommand,
  doctorCommand,
  parameterCommand,
  firewallRuleCommand,
  networkCommand,
  caCommand,
  auditCommand,
  identityCommand,
  accessCommand,
  detectCommand,
  alertsCommand,
  roleCommand,
  configCommand,
];

type FlagSpec = { type: 'string' | 'boolean'; short?: string };

const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  ...Object.fromEntries(
    OPTIONS.map((o) => [o.flag, { type: o.type === 'boolean' ? 'boolean' : 'string' } as FlagSpec]),
  ),
};

const COMMAND_FLAGS: Record<string, FlagSpec> = {
  detach: { type: 'boolean' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  'start-ip-address': { type: 'string' },
  'end-ip-address': { type: 'string' },
  cidr: { type: 'string' },
  out: { type: 'string' },
  log: { type: 'string' },
  role: { type: 'string' },
  database: { type: 'string' },
  reset: { type: 'boolean' },
  lines: { type: 'string', short: 'n' },
  follow: { type: 'boolean' },
  user: { type: 'string' },
  class: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  object: { type: 'string' },
  ip: { type: 'string' },
  outcome: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string' },
  'jwks-uri': { type: 'string' },
  'jwks-file': { type: 'string' },
  'subject-claim': { type: 'string' },
  'groups-claim': { type: 'string' },
  'required-claims': { type: 'string' },
  provider: { type: 'string' },
  subject: { type: 'string' },
  type: { type: 'string' },
  'login-as': { type: 'string' },
  effect: { type: 'string' },
  priority: { type: 'string' },
  roles: { type: 'string' },
  principals: { type: 'string' },
  groups: { type: 'string' },
  'source-ranges': { type: 'string' },
  'time-windows': { type: 'string' },
  'application-names': { type: 'string' },
  'client-certificate': { type: 'string' },
  mfa: { type: 'string' },
  'acr-values': { type: 'string' },
  disabled: { type: 'boolean' },
  replace: { type: 'boolean' },
  file: { type: 'string' },
  address: { type: 'string' },
  principal: { type: 'string' },
  'application-name': { type: 'string' },
  method: { type: 'string' },
  'with-mfa': { type: 'boolean' },
  'with-client-certificate': { type: 'boolean' },
  at: { type: 'string' },
  id: { type: 'string' },
  for: { type: 'string' },
  reason: { type: 'string' },
  'unused-days': { type: 'string' },
  'fail-on': { type: 'string' },
  stdin: { type: 'boolean' },
  spec: { type: 'string' },
  expect: { type: 'string' },
  table: { type: 'string' },
  where: { type: 'string' },
  column: { type: 'string' },
  plant: { type: 'boolean' },
  values: { type: 'string' },
  'marker-format': { type: 'string' },
  status: { type: 'string' },
  severity: { type: 'string' },
  format: { type: 'string' },
};

/** Runs the CLI; never throws, returns the exit code. Stack traces only with --debug. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    return await dispatch(argv, io);
  } catch (error) {
    reportError(error, io, debug);
    return isPgwardenError(error) ? exitCodeFor(error) : 1;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...GLOBAL_FLAGS, ...COMMAND_FLAGS },
      allowPositionals: true,
      strict: true,
    });
  } catch (cause) {
    throw new PgwardenError(
      'PGW_USAGE',
      messageOf(cause).replace(/\. To specify a positional.*$/, ''),
      {
        hint: 'run `pgwarden --help` for the commands and options',
      },
    );
  }
  const { values, positionals } = parsed;
  if (values.version === true) {
    io.out(PGWARDEN_VERSION);
    return 0;
  }
  const [name, ...args] = positionals;
  const command = COMMANDS.find((c) => c.name === name);
  if (name === undefined || (values.help === true && command === undefined)) {
    io.out(helpText());
    return name === undefined && values.help !== true ? 2 : 0;
  }
  if (command === undefined) {
    throw new PgwardenError('PGW_USAGE', `unknown command "${name}"`, {
      hint: `the commands are: ${COMMANDS.map((c) => c.name).join(', ')}`,
    });
  }
  if (values.help === true) {
    io.out(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  for (const flag of Object.keys(COMMAND_FLAGS)) {
    if (values[flag] !== undefined && !command.flags.includes(flag)) {
      throw new PgwardenError('PGW_USAGE', `"pgwarden ${command.name}" does not take --${flag}`, {
        hint: `usage: ${command.usage}`,
      });
    }
  }
  const commandIndex = argv.indexOf(command.name);
  return command.run({
    io,
    flags: values as Record<string, string | boolean | undefined>,
    args,
    argv: argv.filter((_, i) => i !== commandIndex),
  });
}

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: pgwarden <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    '  --data-dir DIR      data directory (PGWARDEN_DATA_DIR; default ./.pgwarden)',
    '  --config FILE       configuration file (PGWARDEN_CONFIG; default DIR/pgwarden.yaml)',
    '  --pg-bin DIR|system|embedded   PostgreSQL binaries (PGWARDEN_PG_BIN; default auto)',
    '  --os-user NAME      OS user PostgreSQL runs as when pgwarden is root (PGWARDEN_OS_USER)',
    '  --admin-user NAME   administrator login created at init (PGWARDEN_ADMIN_USER)',
    '  --start-timeout S   seconds to wait for PostgreSQL to start (PGWARDEN_START_TIMEOUT)',
    '  --stop-timeout S    seconds a fast shutdown may take (PGWARDEN_STOP_TIMEOUT)',
    '  --port N            gateway TCP port (PGWARDEN_PORT; default 5432)',
    '  --debug             show stack traces on errors',
    '  -h, --help          help;  -V, --version  version',
  ].join('\n');
}

function reportError(error: unknown, io: CliIo, debug: boolean): void {
  if (isPgwardenError(error)) {
    io.err(`pgwarden: error: ${error.message} (${error.code})`);
    for (const line of error.details) io.err(`  ${line}`);
    io.err(`hint: ${error.hint}`);
  } else {
    io.err(`pgwarden: internal error: ${messageOf(error).split('\n')[0]}`);
    if (!debug) io.err('hint: run again with --debug for details, and report it (PGW_INTERNAL)');
  }
  if (debug) {
    let current: unknown = error;
    while (current instanceof Error) {
      io.err(current.stack ?? current.message);
      current = current.cause;
    }
  }
}
