import { closeSync, openSync, writeSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { parseTimeBound } from '../../audit/log/audit-reader.js';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import {
  ALERT_TYPES,
  type AlertSeverity,
  isAlertType,
  SEVERITIES,
} from '../../detect/alert-catalog.js';
import {
  ALERT_STATUSES,
  type AlertFilter,
  acknowledgeAlert,
  listAlerts,
  readAlert,
  resolveAlert,
  type StoredAlert,
} from '../../detect/alert-store.js';
import { alertToCef } from '../../detect/sinks/alert-cef.js';
import { alertToOcsf } from '../../detect/sinks/alert-ocsf.js';
import { PgwardenError } from '../../errors.js';
import type { CliIo, Command, CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { stringFlag } from '../command-flags.js';
import { printTable } from '../print-table.js';
import { PGWARDEN_VERSION } from '../version.js';

const USAGE = [
  'pgwarden alerts list [--status new|acknowledged|resolved|open|all] [--type T] [--severity S] [--since AGE|TIME] [--json]',
  'pgwarden alerts show ID [--json] | ack ID | resolve ID',
  'pgwarden alerts export --format cef|ocsf [--since AGE|TIME] [--out FILE]',
].join('\n       ');

const FLAGS: Record<string, readonly string[]> = {
  list: ['status', 'type', 'severity', 'since', 'json'],
  show: ['json'],
  ack: [],
  resolve: [],
  export: ['format', 'since', 'out'],
};
const ALL_FLAGS = [...new Set(Object.values(FLAGS).flat())];
/** Subcommands that take an alert id. */
const WITH_ID = ['show', 'ack', 'resolve'];

/** `pgwarden alerts`: triage what threat detection raised (docs/detection.md). */
export const alertsCommand: Command = {
  name: 'alerts',
  summary: 'List, show, acknowledge, resolve and export (CEF, OCSF) threat detection alerts.',
  usage: USAGE,
  flags: ALL_FLAGS,
  async run(input) {
    const [sub, ...rest] = input.args;
    const allowed = sub === undefined ? undefined : FLAGS[sub];
    if (sub === undefined || allowed === undefined) {
      throw usage(
        sub === undefined ? 'alerts needs a subcommand' : `unknown alerts subcommand "${sub}"`,
      );
    }
    for (const flag of ALL_FLAGS) {
      if (input.flags[flag] !== undefined && !allowed.includes(flag))
        throw usage(`"pgwarden alerts ${sub}" does not take --${flag}`);
    }
    const takesId = WITH_ID.includes(sub);
    if (rest.length !== (takesId ? 1 : 0)) {
      throw usage(
        takesId ? `alerts ${sub} takes one alert id` : `alerts ${sub} takes no arguments`,
      );
    }
    // Checked before connecting: bad input is reported the same with the server down.
    const id = takesId ? alertId(rest[0] as string) : 0;
    const filter = sub === 'list' ? listFilter(input) : undefined;
    const format = sub === 'export' ? exportFormat(input) : undefined;
    const since = sub === 'export' ? sinceFlag(input) : undefined;
    const ctx = await runningServerContext(input);
    return withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
      const { io } = input;
      const json = input.flags.json === true;
      switch (sub) {
        case 'list':
          printList(io, await listAlerts(client, filter as AlertFilter), json);
          return 0;
        case 'show':
          printAlert(io, await readAlert(client, id), json);
          return 0;
        case 'ack': {
          const { alert, changed } = await acknowledgeAlert(client, id, userInfo().username);
          io.out(
            changed
              ? `alert ${id} acknowledged by ${alert.acknowledgedBy}; it keeps counting repeats`
              : `alert ${id} was already acknowledged by ${alert.acknowledgedBy} at ${alert.acknowledgedAt}`,
          );
          return 0;
        }
        case 'resolve': {
          const { alert, changed } = await resolveAlert(client, id, userInfo().username);
          io.out(
            changed
              ? `alert ${id} resolved by ${alert.resolvedBy}; if it fires again, a new alert is opened`
              : `alert ${id} was already resolved by ${alert.resolvedBy} at ${alert.resolvedAt}`,
          );
          return 0;
        }
        default: {
          const alerts = (await listAlerts(client, { status: 'all', since })).reverse();
          const lines = alerts.map((alert) =>
            format === 'cef'
              ? alertToCef(alert, PGWARDEN_VERSION)
              : JSON.stringify(alertToOcsf(alert, PGWARDEN_VERSION)),
          );
          writeExport(input, lines);
          return 0;
        }
      }
    });
  },
};

function listFilter(input: CommandInput): AlertFilter {
  const status = stringFlag(input, 'status') ?? 'open';
  if (
    !(ALERT_STATUSES as readonly string[]).includes(status) &&
    status !== 'open' &&
    status !== 'all'
  ) {
    throw invalid(
      `"${status}" is not an alert status`,
      'give --status new, acknowledged, resolved, open (the default: new and acknowledged) or all',
    );
  }
  const type = stringFlag(input, 'type');
  if (
    type !== undefined &&
    !isAlertType(type) &&
    !Object.keys(ALERT_TYPES).some((t) => t.startsWith(`${type}.`))
  ) {
    throw invalid(
      `"${type}" is not an alert type`,
      `give a type or its family (before the dot): ${Object.keys(ALERT_TYPES).join(', ')}`,
    );
  }
  const severity = stringFlag(input, 'severity');
  if (severity !== undefined && !(SEVERITIES as readonly string[]).includes(severity)) {
    throw invalid(
      `"${severity}" is not a severity`,
      `give one of ${SEVERITIES.join(', ')} (alerts of it and above are listed)`,
    );
  }
  return {
    status: status as AlertFilter['status'],
    type,
    minSeverity: severity as AlertSeverity | undefined,
    since: sinceFlag(input),
  };
}

function sinceFlag(input: CommandInput): Date | undefined {
  const text = stringFlag(input, 'since');
  return text === undefined ? undefined : new Date(parseTimeBound(text));
}

function exportFormat(input: CommandInput): 'cef' | 'ocsf' {
  const format = stringFlag(input, 'format');
  if (format === 'cef' || format === 'ocsf') return format;
  if (format === undefined) throw usage('alerts export needs --format cef or --format ocsf');
  throw invalid(
    `"${format}" is not an export format`,
    'give --format cef (ArcSight CEF lines) or --format ocsf (OCSF 1.3.0 Detection Finding JSON lines)',
  );
}

function alertId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw invalid(
      `"${text}" is not an alert id`,
      'give the number shown in the id column of pgwarden alerts list',
    );
  }
  return Number(text);
}

function printList(io: CliIo, alerts: readonly StoredAlert[], json: boolean): void {
  if (json) {
    io.out(JSON.stringify(alerts, null, 2));
    return;
  }
  if (alerts.length === 0) {
    io.out('no alerts match');
    return;
  }
  printTable(
    io,
    ['id', 'status', 'severity', 'type', 'count', 'last seen', 'subject', 'summary'],
    alerts.map((a) => [
      String(a.id),
      a.status,
      a.severity,
      a.type,
      String(a.count),
      shortTime(a.lastSeen),
      subjectText(a),
      oneLine(a.summary),
    ]),
  );
}

function printAlert(io: CliIo, alert: StoredAlert, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(alert, null, 2));
    return;
  }
  const info = isAlertType(alert.type) ? ALERT_TYPES[alert.type] : undefined;
  const rows: [string, string | null | undefined][] = [
    ['status', alert.status],
    ['severity', alert.severity],
    ['summary', oneLine(alert.summary)],
    ['description', info?.description],
    ['tactic', info === undefined ? undefined : `${info.tactic} (${info.technique})`],
    ['key', oneLine(alert.key)],
    ['subject', subjectText(alert)],
    ['count', String(alert.count)],
    ['first seen', alert.firstSeen],
    ['last seen', alert.lastSeen],
    [
      'acknowledged',
      alert.acknowledgedBy === null
        ? undefined
        : `by ${alert.acknowledgedBy} at ${alert.acknowledgedAt}`,
    ],
    [
      'resolved',
      alert.resolvedBy === null ? undefined : `by ${alert.resolvedBy} at ${alert.resolvedAt}`,
    ],
  ];
  io.out(`alert ${alert.id}: ${alert.type}`);
  for (const [name, value] of rows)
    if (value !== undefined && value !== null) io.out(`  ${name.padEnd(13)}${value}`);
  io.out(`evidence (${alert.evidence.length} item(s), the first and the latest kept):`);
  printTable(
    io,
    ['  time', 'event', 'address', 'user', 'database', 'application', 'detail'],
    alert.evidence.map((e) =>
      [
        `  ${e.time}`,
        e.event,
        e.address ?? '',
        e.user ?? '',
        e.database ?? '',
        e.applicationName ?? '',
        e.detail ?? '',
      ].map(oneLine),
    ),
  );
}

/** Lines to --out (a new file, mode 0600: evidence names people and addresses) or stdout. */
function writeExport(input: CommandInput, lines: readonly string[]): void {
  const out = stringFlag(input, 'out');
  if (out === undefined) {
    for (const line of lines) input.io.out(line);
    return;
  }
  const path = resolve(input.io.cwd, out);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new PgwardenError('PGW_OUTPUT_FILE_EXISTS', `${path} already exists`, {
        hint: 'give --out a new path, or remove the old file first',
        cause,
      });
    }
    throw new PgwardenError('PGW_USAGE', `cannot create ${path}`, {
      hint: 'give --out a path in a directory you can write',
      cause,
    });
  }
  try {
    for (const line of lines) writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
  input.io.err(`pgwarden: ${lines.length} alert(s) written to ${path}`);
}

function subjectText(alert: StoredAlert): string {
  const { address, user, principal, session } = alert.subject;
  return oneLine(
    [
      address === undefined ? undefined : `address ${address}`,
      user === undefined ? undefined : `user ${user}`,
      principal === undefined ? undefined : `principal ${principal}`,
      session === undefined ? undefined : `session ${session}`,
    ]
      .filter((part) => part !== undefined)
      .join(', '),
  );
}

/** Text from the wire on one terminal line: control characters shown as spaces. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/** Seconds precision is enough for a table. */
function shortTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, { hint: `usage: ${USAGE}` });
}

function invalid(message: string, hint: string): PgwardenError {
  return new PgwardenError('PGW_ALERT_INVALID', message, { hint });
}
