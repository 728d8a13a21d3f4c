import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parse as parseYaml } from 'yaml';
import {
  describeDecision,
  evaluateAccess,
  orderPolicies,
} from '../../access/conditional-access.js';
import {
  deleteAccessPolicy,
  readAccessPolicies,
  saveAccessPolicy,
} from '../../control/access/access-policy-store.js';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import { PgwardenError } from '../../errors.js';
import type { CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { requiredFlag, stringFlag } from '../command-flags.js';
import { printTable } from '../print-table.js';

export const ACCESS_POLICY_USAGE = [
  'pgwarden access policy create --name N --effect allow|deny [--priority P] [--roles R,..] [--principals ID,..] [--groups G,..]',
  '    [--source-ranges CIDR,..] [--time-windows "mon-fri 08:00-18:00 Europe/Berlin;..."] [--application-names GLOB,..]',
  '    [--client-certificate required|absent] [--mfa required|absent] [--acr-values V,..] [--disabled] [--replace] | --file F',
  'pgwarden access policy list [--json] | delete --name N',
  'pgwarden access policy test --role R --address IP [--principal ID] [--groups G,..] [--application-name A] [--method password|token] [--with-mfa] [--with-client-certificate] [--at TIME] [--json]',
].join('\n       ');

const CREATE = [
  'name',
  'effect',
  'priority',
  'roles',
  'principals',
  'groups',
  'source-ranges',
  'time-windows',
  'application-names',
  'client-certificate',
  'mfa',
  'acr-values',
  'disabled',
  'replace',
  'file',
];
const TEST = [
  'role',
  'address',
  'principal',
  'groups',
  'application-name',
  'method',
  'with-mfa',
  'with-client-certificate',
  'at',
  'json',
];
const FLAGS: Record<string, readonly string[]> = {
  create: CREATE,
  list: ['json'],
  delete: ['name'],
  test: TEST,
};
export const ACCESS_POLICY_FLAGS: readonly string[] = [...new Set(Object.values(FLAGS).flat())];

export async function accessPolicy(input: CommandInput): Promise<number> {
  const [, sub, ...extra] = input.args;
  const allowed = sub === undefined ? undefined : FLAGS[sub];
  if (allowed === undefined || extra.length > 0) {
    throw usage(
      sub === undefined
        ? 'access policy needs a subcommand'
        : `unknown access policy subcommand "${sub}"`,
    );
  }
  for (const flag of ACCESS_POLICY_FLAGS) {
    if (input.flags[flag] !== undefined && !allowed.includes(flag)) {
      throw usage(`"pgwarden access policy ${sub}" does not take --${flag}`);
    }
  }
  const ctx = await runningServerContext(input);
  return withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
    const { io } = input;
    const json = input.flags.json === true;
    switch (sub) {
      case 'create': {
        const policy = await saveAccessPolicy(
          client,
          policyFromFlags(input),
          userInfo().username,
          input.flags.replace === true,
        );
        io.out(
          `access policy "${policy.name}" saved (${policy.effect}, priority ${policy.priority}); gateways apply it within a second`,
        );
        return 0;
      }
      case 'list': {
        const policies = orderPolicies(await readAccessPolicies(client));
        if (json) io.out(JSON.stringify(policies, null, 2));
        else {
          printTable(
            io,
            ['priority', 'name', 'effect', 'enabled', 'subjects', 'conditions'],
            policies.map((p) => [
              String(p.priority),
              p.name,
              p.effect,
              p.enabled ? 'yes' : 'no',
              JSON.stringify(p.subjects),
              JSON.stringify(p.conditions),
            ]),
          );
        }
        return 0;
      }
      case 'delete':
        await deleteAccessPolicy(client, required(input, 'name'));
        io.out(`access policy "${required(input, 'name')}" deleted`);
        return 0;
      default: {
        const decision = evaluateAccess(await readAccessPolicies(client), testContext(input));
        if (json) io.out(JSON.stringify(decision, null, 2));
        else {
          io.out(describeDecision(decision));
          for (const step of decision.explanation) io.out(`  ${step.text}`);
        }
        return 0;
      }
    }
  });
}

/** The policy document: from --file (JSON or YAML), or from the flags. */
function policyFromFlags(input: CommandInput): unknown {
  const file = stringFlag(input, 'file');
  if (file !== undefined) {
    const others = CREATE.filter(
      (f) => f !== 'file' && f !== 'replace' && input.flags[f] !== undefined,
    );
    if (others.length > 0) throw usage(`--file cannot be combined with --${others[0]}`);
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (cause) {
      throw usage(`cannot read ${file}: ${(cause as Error).message}`);
    }
    try {
      return parseYaml(source) as unknown; // JSON is YAML too
    } catch (cause) {
      throw usage(`${file} is not JSON or YAML: ${(cause as Error).message}`);
    }
  }
  const list = (name: string): string[] | undefined =>
    stringFlag(input, name)
      ?.split(',')
      .map((v) => v.trim());
  const presence = (name: string): boolean | undefined => {
    const value = stringFlag(input, name);
    if (value === undefined) return undefined;
    if (value !== 'required' && value !== 'absent')
      throw usage(`--${name} must be required or absent`);
    return value === 'required';
  };
  const subjects = {
    ...(list('roles') === undefined ? {} : { roles: list('roles') }),
    ...(list('principals') === undefined ? {} : { principals: list('principals') }),
    ...(list('groups') === undefined ? {} : { groups: list('groups') }),
  };
  const windows = stringFlag(input, 'time-windows');
  const conditions = {
    ...(list('source-ranges') === undefined ? {} : { sourceRanges: list('source-ranges') }),
    ...(windows === undefined ? {} : { timeWindows: windows.split(';').map(parseWindow) }),
    ...(list('application-names') === undefined
      ? {}
      : { applicationNames: list('application-names') }),
    ...(presence('client-certificate') === undefined
      ? {}
      : { clientCertificate: presence('client-certificate') }),
    ...(presence('mfa') === undefined ? {} : { mfa: presence('mfa') }),
    ...(list('acr-values') === undefined ? {} : { acrValues: list('acr-values') }),
  };
  const priority = stringFlag(input, 'priority');
  return {
    name: required(input, 'name'),
    effect: required(input, 'effect'),
    priority: priority === undefined ? 100 : Number(priority),
    enabled: input.flags.disabled !== true,
    subjects,
    conditions,
  };
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `mon-fri 08:00-18:00 Europe/Berlin` or `sat,sun 00:00-24:00 UTC`. */
function parseWindow(textValue: string): unknown {
  const match = /^\s*(\S+)\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})\s+(\S+)\s*$/.exec(textValue);
  if (match === null) {
    throw usage(
      `--time-windows "${textValue}" is not DAYS HH:MM-HH:MM TIMEZONE, e.g. "mon-fri 08:00-18:00 Europe/Berlin"`,
    );
  }
  const [, days = '', start, end, timeZone] = match;
  const expanded = days.split(',').flatMap((part) => {
    const range = /^([a-z]{3})-([a-z]{3})$/.exec(part.toLowerCase());
    if (range === null) return [part.toLowerCase()];
    const from = DAYS.indexOf(range[1] ?? '');
    const to = DAYS.indexOf(range[2] ?? '');
    if (from < 0 || to < 0) return [part]; // validatePolicy names it
    const out: string[] = [];
    for (let i = from; ; i = (i + 1) % 7) {
      out.push(DAYS[i] as string);
      if (i === to) break;
    }
    return out;
  });
  return { days: expanded, start, end, timeZone };
}

function testContext(input: CommandInput): Parameters<typeof evaluateAccess>[1] {
  const at = stringFlag(input, 'at');
  const when = at === undefined ? new Date() : new Date(at);
  if (Number.isNaN(when.getTime())) throw usage(`--at "${at}" is not a time (use ISO 8601)`);
  const method =
    stringFlag(input, 'method') ??
    (stringFlag(input, 'principal') === undefined ? 'password' : 'token');
  if (method !== 'password' && method !== 'token')
    throw usage('--method must be password or token');
  const principal = stringFlag(input, 'principal');
  const groups = stringFlag(input, 'groups');
  const application = stringFlag(input, 'application-name');
  return {
    role: required(input, 'role'),
    address: required(input, 'address'),
    ...(principal === undefined ? {} : { principalId: principal }),
    ...(groups === undefined ? {} : { groups: groups.split(',') }),
    ...(application === undefined ? {} : { applicationName: application }),
    clientCertificate: input.flags['with-client-certificate'] === true,
    method,
    ...(input.flags['with-mfa'] === true ? { amr: ['mfa'] } : {}),
    at: when,
  };
}

function required(input: CommandInput, name: string): string {
  return requiredFlag(input, name, ACCESS_POLICY_USAGE);
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, { hint: `usage: ${ACCESS_POLICY_USAGE}` });
}
