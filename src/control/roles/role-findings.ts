import type { AuditedRole, RoleAudit } from './role-audit.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Stable ids: scripts and `--fail-on` rely on them; docs/roles.md lists each. */
export const FINDINGS = {
  'login-superuser': 'critical',
  'login-bypassrls': 'high',
  'md5-password': 'high',
  'admin-used-by-application': 'high',
  'public-create-on-schema': 'high',
  'public-usage-on-schema': 'low',
  'rls-owner-bypass': 'medium',
  'unused-login-role': 'medium',
  'password-never-expires': 'low',
} as const satisfies Record<string, Severity>;

export type FindingId = keyof typeof FINDINGS;

export interface Finding {
  readonly id: FindingId;
  readonly severity: Severity;
  /** The role concerned, if one is. */
  readonly role?: string;
  /** The object concerned: `db.schema.table`, `db.schema`, or an application name. */
  readonly object?: string;
  readonly message: string;
}

/** Application names an administrator is expected to log in with (a person, or pgwarden). */
const INTERACTIVE_APPLICATIONS: ReadonlySet<string> = new Set(['', 'psql', 'pgwarden']);

export interface FindingOptions {
  /** A login role with no gateway login in this many days is unused. */
  readonly unusedDays: number;
  readonly now: Date;
}

/** Every finding of an audit, most severe first; internal roles are never a subject. */
export function roleFindings(audit: RoleAudit, options: FindingOptions): Finding[] {
  const findings: Finding[] = [];
  for (const role of audit.roles) {
    if (role.internal) continue;
    findings.push(...attributeFindings(role), ...passwordFindings(role));
    if (unusedStatus(audit, role, options) === true) {
      findings.push(
        finding(
          'unused-login-role',
          `login role has not logged in through the gateway for ${options.unusedDays} days`,
          { role: role.name },
        ),
      );
    }
    for (const table of role.rlsBypass.tables) {
      if (table.owner !== role.name) continue; // one finding per table, on its owner
      const name = `${table.database}.${table.schema}.${table.table}`;
      findings.push(
        finding(
          'rls-owner-bypass',
          'owner of a table with row-level security enabled but not forced: its policies do not apply to the owner or roles inheriting from it',
          { role: role.name, object: name },
        ),
      );
    }
  }
  for (const app of audit.adminApplications) {
    if (INTERACTIVE_APPLICATIONS.has(app.applicationName)) continue;
    findings.push(
      finding(
        'admin-used-by-application',
        `application logs in as the administrator (${app.logins} logins, last ${app.lastLogin})`,
        { role: audit.adminUser, object: app.applicationName },
      ),
    );
  }
  for (const grant of audit.publicSchemaPrivileges) {
    const object = `${grant.database}.${grant.schema}`;
    if (grant.privileges.includes('CREATE'))
      findings.push(
        finding('public-create-on-schema', 'every role (PUBLIC) may create objects in the schema', {
          object,
        }),
      );
    else if (grant.privileges.includes('USAGE'))
      findings.push(
        finding('public-usage-on-schema', 'every role (PUBLIC) may look up objects in the schema', {
          object,
        }),
      );
  }
  return findings.sort(
    (a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || compare(a, b),
  );
}

/** Whether any finding is at or above `threshold`. */
export function hasFindingAtLeast(findings: readonly Finding[], threshold: Severity): boolean {
  const floor = SEVERITIES.indexOf(threshold);
  return findings.some((f) => SEVERITIES.indexOf(f.severity) >= floor);
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

function attributeFindings(role: AuditedRole): Finding[] {
  const { login, superuser, bypassRls } = role.attributes;
  if (!login) return [];
  if (superuser)
    return [
      finding('login-superuser', 'login role is SUPERUSER: it bypasses every check', {
        role: role.name,
      }),
    ];
  if (bypassRls)
    return [
      finding('login-bypassrls', 'login role has BYPASSRLS: row-level security never applies', {
        role: role.name,
      }),
    ];
  return [];
}

function passwordFindings(role: AuditedRole): Finding[] {
  const found: Finding[] = [];
  const { method, validUntil } = role.password;
  if (method === 'md5')
    found.push(
      finding('md5-password', 'password stored as an md5 verifier; set it again as SCRAM-SHA-256', {
        role: role.name,
      }),
    );
  if (role.attributes.login && method !== 'none' && validUntil === null)
    found.push(
      finding('password-never-expires', 'login password has no VALID UNTIL', { role: role.name }),
    );
  return found;
}

/**
 * Whether a login role went unused for the window: 'unknown' unless the audit
 * log goes back the whole window (else "no login" says nothing); null for a
 * role that cannot log in or is pgwarden's own.
 */
export function unusedStatus(
  audit: RoleAudit,
  role: AuditedRole,
  options: FindingOptions,
): boolean | 'unknown' | null {
  if (!role.attributes.login || role.internal) return null;
  const { since } = audit.auditLog;
  if (since === null || Date.parse(since) > cutoff(options)) return 'unknown';
  const last = role.lastLogin;
  return last === null || (last !== 'unknown' && Date.parse(last) < cutoff(options));
}

function cutoff(options: FindingOptions): number {
  return options.now.getTime() - options.unusedDays * 86_400_000;
}

function finding(
  id: FindingId,
  message: string,
  about: { readonly role?: string; readonly object?: string },
): Finding {
  return { id, severity: FINDINGS[id], ...about, message };
}

function compare(a: Finding, b: Finding): number {
  const key = (f: Finding) => `${f.id}\0${f.role ?? ''}\0${f.object ?? ''}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
