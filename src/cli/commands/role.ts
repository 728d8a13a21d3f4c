import { auditPaths } from '../../audit/log/audit-paths.js';
import { type AuditedRole, auditRoles, type RoleAudit } from '../../control/roles/role-audit.js';
import {
  type Finding,
  type FindingOptions,
  hasFindingAtLeast,
  isSeverity,
  roleFindings,
  SEVERITIES,
  type Severity,
  unusedStatus,
} from '../../control/roles/role-findings.js';
import { PgwardenError } from '../../errors.js';
import { inspectDataDir } from '../../server/data-dir.js';
import type { CliIo, Command, CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { printTable } from '../print-table.js';
import { ROLE_PASSWORD_FLAGS, ROLE_PASSWORD_USAGE, runRolePassword } from './role-password.js';

const USAGE = [
  'pgwarden role audit [--json] [--unused-days N] [--fail-on SEVERITY]',
  ...ROLE_PASSWORD_USAGE,
].join('\n       ');

/** Which flags each subcommand takes. */
const FLAGS: Record<string, readonly string[]> = {
  audit: ['json', 'unused-days', 'fail-on'],
  ...Object.fromEntries(
    Object.entries(ROLE_PASSWORD_FLAGS).map(([sub, flags]) => [`password ${sub}`, flags]),
  ),
};

export const roleCommand: Command = {
  name: 'role',
  summary:
    'Audit roles (attributes, memberships, passwords, logins, ownership, findings); set and rotate passwords under the policy.',
  usage: USAGE,
  flags: [...new Set(Object.values(FLAGS).flat())],
  async run(input) {
    const [sub, ...rest] = input.args;
    const key = sub === 'password' ? `password ${rest[0]}` : String(sub);
    const extra = sub === 'password' ? rest.slice(1) : rest;
    const allowed = FLAGS[key];
    if (allowed === undefined || extra.length > 0) {
      throw usage(
        sub === undefined
          ? 'role needs a subcommand'
          : `unknown role subcommand "${[sub, ...rest].join(' ')}"`,
      );
    }
    for (const flag of roleCommand.flags) {
      if (input.flags[flag] !== undefined && !allowed.includes(flag)) {
        throw usage(`"pgwarden role ${key}" does not take --${flag}`);
      }
    }
    if (key === 'password set' || key === 'password rotate') {
      return runRolePassword(input, key === 'password set' ? 'set' : 'rotate', usage);
    }
    const unusedDays = unusedDaysOf(input);
    const failOn = failOnOf(input);
    const ctx = await runningServerContext(input);
    const dir = inspectDataDir(ctx.layout);
    // The administrator init created, even if the config has changed since.
    const adminUser = dir.kind === 'ready' ? dir.meta.adminUser : ctx.config.server.adminUser;
    const now = new Date();
    const audit = await auditRoles({
      socketDir: ctx.layout.socketDir,
      logDir: auditPaths(ctx.layout.root).logDir,
      adminUser,
      now,
    });
    const options: FindingOptions = { unusedDays, now };
    const findings = roleFindings(audit, options);
    if (input.flags.json === true) {
      const roles = audit.roles.map((role) => ({
        ...role,
        unused: unusedStatus(audit, role, options),
      }));
      input.io.out(JSON.stringify({ ...audit, unusedDays, roles, findings }, null, 2));
    } else {
      printReport(input.io, audit, findings, options);
    }
    return failOn !== undefined && hasFindingAtLeast(findings, failOn) ? 1 : 0;
  },
};

function printReport(
  io: CliIo,
  audit: RoleAudit,
  findings: readonly Finding[],
  options: FindingOptions,
): void {
  printTable(
    io,
    [
      'role',
      'attributes',
      'member of',
      'password',
      'expires',
      'password set',
      'last login',
      'unused',
      'owns',
      'bypasses RLS',
    ],
    audit.roles.map((role) => [
      role.internal ? `${role.name} (internal)` : role.name,
      attributesOf(role),
      role.memberOf.map((m) => (m.direct ? m.role : `${m.role} (indirect)`)).join(', ') || '-',
      role.password.method,
      role.password.method === 'none'
        ? '-'
        : `${role.password.validUntil ?? 'never'}${role.password.expired ? ' (expired)' : ''}`,
      passwordSetOf(role),
      role.lastLogin ?? (audit.auditLog.since === null ? 'unknown' : 'none logged'),
      unusedText(unusedStatus(audit, role, options)),
      Object.entries(role.owned)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([kind, n]) => `${n} ${kind}`)
        .join(', ') || '-',
      rlsBypassOf(role),
    ]),
  );
  io.out('');
  io.out(
    audit.auditLog.since === null
      ? 'audit log: none, so last logins, password dates and unused roles are unknown'
      : `audit log since ${audit.auditLog.since}`,
  );
  io.out('');
  if (findings.length === 0) {
    io.out('findings: none');
    return;
  }
  printTable(
    io,
    ['severity', 'finding', 'role', 'object', 'message'],
    findings.map((f) => [f.severity, f.id, f.role ?? '-', f.object ?? '-', f.message]),
  );
}

function attributesOf(role: AuditedRole): string {
  const a = role.attributes;
  const names = [
    a.login ? 'LOGIN' : 'NOLOGIN',
    a.superuser && 'SUPERUSER',
    a.bypassRls && 'BYPASSRLS',
    a.createRole && 'CREATEROLE',
    a.createDb && 'CREATEDB',
    a.replication && 'REPLICATION',
    !a.inherit && 'NOINHERIT',
    a.connectionLimit >= 0 && `CONNECTION LIMIT ${a.connectionLimit}`,
  ];
  return names.filter((n): n is string => typeof n === 'string').join(' ');
}

function unusedText(status: boolean | 'unknown' | null): string {
  if (status === null) return '-';
  if (status === 'unknown') return status;
  return status ? 'yes' : 'no';
}

function passwordSetOf(role: AuditedRole): string {
  const { setAt, ageDays } = role.password;
  if (setAt === null) return '-';
  if (setAt === 'unknown') return 'unknown';
  return `${setAt} (${ageDays} days ago)`;
}

function rlsBypassOf(role: AuditedRole): string {
  const { superuser, bypassRls, tables } = role.rlsBypass;
  const reasons = [
    superuser ? 'SUPERUSER' : undefined,
    bypassRls ? 'BYPASSRLS' : undefined,
    ...tables.map((t) => `${t.database}.${t.schema}.${t.table}`),
  ];
  return reasons.filter((r) => r !== undefined).join(', ') || '-';
}

function unusedDaysOf(input: CommandInput): number {
  const raw = input.flags['unused-days'];
  if (raw === undefined) return 90;
  const days = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || days < 1 || !Number.isSafeInteger(days))
    throw usage(`--unused-days takes a whole number of days, not "${String(raw)}"`);
  return days;
}

function failOnOf(input: CommandInput): Severity | undefined {
  const raw = input.flags['fail-on'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !isSeverity(raw))
    throw usage(`--fail-on takes one of ${SEVERITIES.join(', ')}, not "${String(raw)}"`);
  return raw;
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, { hint: `usage: ${USAGE}` });
}
