import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { listAuditFiles } from '../../audit/log/audit-files.js';
import { loadAuditKey } from '../../audit/log/audit-key.js';
import { auditPaths } from '../../audit/log/audit-paths.js';
import {
  type AuditFilter,
  auditFilter,
  follow,
  parseTimeBound,
  tail,
} from '../../audit/log/audit-reader.js';
import type { SealedAuditRecord } from '../../audit/log/audit-record.js';
import { searchAuditLog } from '../../audit/log/audit-search.js';
import { verifyAuditLog } from '../../audit/log/audit-verifier.js';
import {
  mergePolicy,
  type PolicyScope,
  parseClassList,
  readPolicyRows,
  writePolicy,
} from '../../control/audit/audit-policy-store.js';
import {
  disableServerSideAudit,
  enableServerSideAudit,
  serverSideAudit,
} from '../../control/audit/server-side-audit.js';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import { PgwardenError } from '../../errors.js';
import type { CliIo, Command, CommandInput } from '../cli-io.js';
import { loadCommandConfig, runningServerContext } from '../command-context.js';

const USAGE =
  'pgwarden audit verify [--json] | tail [-n N] [--follow] [--json] | search [--user U] [--class C] [--since T] [--until T] [--object O] [--ip A] [--outcome X] [--json] | configure [--log CLASSES] [--role R | --database D] [--reset] [--json] | server-side enable|disable|status';

const SEARCH_FLAGS = ['user', 'class', 'since', 'until', 'object', 'ip', 'outcome'] as const;

/** Reads the audit log files only: works while the server is down. */
export const auditCommand: Command = {
  name: 'audit',
  summary: 'Verify, tail and search the tamper-evident audit log.',
  usage: USAGE,
  flags: ['json', 'lines', 'follow', 'log', 'role', 'database', 'reset', ...SEARCH_FLAGS],
  async run(input) {
    const [sub, ...extra] = input.args;
    if (sub === 'server-side') return serverSide(input, extra);
    if (
      sub === undefined ||
      !['verify', 'tail', 'search', 'configure'].includes(sub) ||
      extra.length > 0
    ) {
      throw usage(
        sub === undefined ? 'audit needs a subcommand' : `unknown audit subcommand "${sub}"`,
      );
    }
    const allowed: Record<string, readonly string[]> = {
      verify: ['json'],
      tail: ['json', 'lines', 'follow'],
      search: ['json', ...SEARCH_FLAGS],
      configure: ['json', 'log', 'role', 'database', 'reset'],
    };
    for (const flag of auditCommand.flags) {
      if (input.flags[flag] !== undefined && !allowed[sub]?.includes(flag)) {
        throw usage(`"pgwarden audit ${sub}" does not take --${flag}`);
      }
    }
    if (sub === 'configure') return configurePolicy(input);
    const { logDir, keyFile, anchorFile } = auditPaths(loadCommandConfig(input).dataDir);
    const json = input.flags.json === true;
    switch (sub) {
      case 'verify':
        return verify(input.io, logDir, keyFile, anchorFile, json);
      case 'tail':
        return tailLog(input, logDir, json);
      default:
        return search(input, logDir, json);
    }
  },
};

async function verify(
  io: CliIo,
  logDir: string,
  keyFile: string,
  anchorFile: string,
  json: boolean,
): Promise<number> {
  const files = await listAuditFiles(logDir);
  if (files.length === 0 && !existsSync(keyFile)) {
    if (json) io.out(JSON.stringify({ ok: true, records: 0, files: 0, firstSeq: 0, lastSeq: 0 }));
    else io.out(`audit log intact: 0 records in 0 files (no audit log in ${logDir} yet)`);
    return 0;
  }
  const result = await verifyAuditLog(logDir, loadAuditKey(keyFile), { anchorFile });
  if (json) io.out(JSON.stringify(result, null, 2));
  if (result.ok) {
    if (!json) {
      io.out(
        `audit log intact: ${result.records} records in ${result.files} files (seq ${result.firstSeq}..${result.lastSeq})`,
      );
    }
    return 0;
  }
  throw new PgwardenError(
    'PGW_AUDIT_LOG_TAMPERED',
    `the audit log is not intact: ${result.message}`,
    {
      hint: `${result.records} records before it verified; compare ${result.file} with a backup, and treat the events around seq ${result.seq ?? '?'} as untrustworthy`,
    },
  );
}

async function tailLog(input: CommandInput, logDir: string, json: boolean): Promise<number> {
  const text = input.flags.lines;
  const n = typeof text === 'string' ? Number(text) : 10;
  if (!Number.isSafeInteger(n) || n < 0) throw usage(`-n takes a count, not "${String(text)}"`);
  const printer = recordPrinter(input.io, json);
  const records = await tail(logDir, n);
  for (const record of records) printer(record);
  if (input.flags.follow !== true) return 0;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const lastSeq = records.at(-1)?.seq;
    for await (const record of follow(logDir, {
      signal: controller.signal,
      ...(lastSeq === undefined ? {} : { afterSeq: lastSeq }),
    })) {
      printer(record);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}

async function search(input: CommandInput, logDir: string, json: boolean): Promise<number> {
  const flag = (name: string): string | undefined => {
    const value = input.flags[name];
    return typeof value === 'string' ? value : undefined;
  };
  const since = flag('since');
  const until = flag('until');
  const filter: AuditFilter = {
    user: flag('user'),
    class: flag('class'),
    object: flag('object'),
    ip: flag('ip'),
    outcome: flag('outcome'),
    ...(since === undefined ? {} : { since: parseTimeBound(since) }),
    ...(until === undefined ? {} : { until: parseTimeBound(until) }),
  };
  auditFilter(filter); // reports a bad --ip before reading anything
  const printer = recordPrinter(input.io, json);
  // Through the per-file indexes in <logDir>/index (built as needed; a cache, never trusted for integrity).
  for await (const record of searchAuditLog(logDir, filter)) printer(record);
  return 0;
}

const COLUMNS = [
  { title: 'time', width: 24 },
  { title: 'user', width: 16 },
  { title: 'address', width: 15 },
  { title: 'class', width: 8 },
  { title: 'outcome', width: 12 },
  { title: 'statement', width: 0 },
] as const;

/**
 * Prints records as they come: JSON lines with --json, else a table (fixed
 * column widths, so follow mode and long searches can stream).
 */
function recordPrinter(io: CliIo, json: boolean): (record: SealedAuditRecord) => void {
  if (json) return (record) => io.out(JSON.stringify(record));
  let header = false;
  return (record) => {
    if (!header) {
      io.out(row(COLUMNS.map((c) => c.title)));
      header = true;
    }
    const statement =
      typeof record.statement === 'string' ? record.statement : `[${String(record.event)}]`;
    io.out(
      row([
        String(record.time),
        text(record.user),
        text(record.address),
        text(record.class),
        text(record.outcome),
        truncate(statement.replace(/\s+/g, ' ').trim(), 80),
      ]),
    );
  };
}

function row(cells: readonly string[]): string {
  return cells
    .map((cell, i) => cell.padEnd(COLUMNS[i]?.width ?? 0))
    .join('  ')
    .trimEnd();
}

function text(value: unknown): string {
  return value === undefined || value === null || value === '' ? '-' : String(value);
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, { hint: `usage: ${USAGE}` });
}

/**
 * `pgwarden audit configure`: shows the effective policy, or sets the default
 * (`--log`), a role's (`--role R --log …`) or a database's classes, or removes
 * an entry (`--reset`). Stored in the state database; running gateways apply
 * it to new sessions within a second.
 */
async function configurePolicy(input: CommandInput): Promise<number> {
  const text = (name: string): string | undefined => {
    const value = input.flags[name];
    return typeof value === 'string' ? value : undefined;
  };
  const role = text('role');
  const database = text('database');
  const log = text('log');
  const reset = input.flags.reset === true;
  if (role !== undefined && database !== undefined)
    throw usage('give --role or --database, not both');
  if (reset && log !== undefined) throw usage('give --log or --reset, not both');
  const ctx = await runningServerContext(input);
  const scope: PolicyScope =
    role !== undefined ? 'role' : database !== undefined ? 'database' : 'default';
  const name = role ?? database ?? '';
  await withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
    if (log !== undefined || reset) {
      await writePolicy(
        client,
        scope,
        name,
        reset ? null : parseClassList(log as string),
        userInfo().username,
      );
    }
    const effective = mergePolicy(ctx.config.audit, await readPolicyRows(client));
    const view = { log: effective.log, roles: effective.roles, databases: effective.databases };
    if (input.flags.json === true) {
      input.io.out(JSON.stringify(view, null, 2));
      return;
    }
    input.io.out(`default    ${view.log.join(', ')}`);
    for (const [r, classes] of Object.entries(view.roles))
      input.io.out(`role       ${r}: ${classes.join(', ')}`);
    for (const [d, classes] of Object.entries(view.databases))
      input.io.out(`database   ${d}: ${classes.join(', ')}`);
    if (log !== undefined || reset)
      input.io.out('applied: running gateways use it for new sessions within a second');
  });
  return 0;
}

/** `pgwarden audit server-side enable|disable|status`: pgaudit inside the managed server. */
async function serverSide(input: CommandInput, args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  if (
    action === undefined ||
    !['enable', 'disable', 'status'].includes(action) ||
    rest.length > 0
  ) {
    throw usage('audit server-side takes enable, disable or status');
  }
  const ctx = await runningServerContext(input);
  const socketDir = ctx.layout.socketDir;
  const who = userInfo().username;
  if (action === 'enable' || action === 'disable') {
    const { restartRequired } =
      action === 'enable'
        ? await enableServerSideAudit(socketDir, ctx.binaries, who)
        : await disableServerSideAudit(socketDir, ctx.binaries, who);
    input.io.out(
      restartRequired
        ? `pgaudit ${action === 'enable' ? 'will be loaded' : 'will be unloaded'} at the next restart: pgwarden down && pgwarden up`
        : `pgaudit is ${action === 'enable' ? 'active' : 'not configured'}`,
    );
  }
  const state = await serverSideAudit(socketDir);
  input.io.out(
    state.active
      ? `server-side audit: active (pgaudit.log = ${state.log ?? '?'}; AUDIT lines in ${ctx.layout.postgresLog})`
      : `server-side audit: ${state.configured ? 'configured, active after a restart' : 'off'}`,
  );
  return 0;
}
