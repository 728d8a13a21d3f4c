import { readAuditLog } from '../../audit/log/audit-reader.js';

/** What the audit log tells about roles; times are ISO 8601 strings as the log holds them. */
export interface RoleActivity {
  /** The time of the oldest record, or null when there is no audit log. */
  readonly since: string | null;
  /** Newest gateway login (`auth.succeeded`) per role. */
  readonly lastLogin: ReadonlyMap<string, string>;
  /**
   * Newest successful CREATE/ALTER ROLE naming the role that mentions PASSWORD:
   * PostgreSQL keeps no date for a password, so this is the best witness.
   */
  readonly passwordSet: ReadonlyMap<string, string>;
  /** Gateway logins of the administrator, per application_name ('' when none was sent). */
  readonly adminLogins: ReadonlyMap<string, { readonly count: number; readonly last: string }>;
}

const ROLE_COMMANDS: ReadonlySet<string> = new Set(['CREATE ROLE', 'ALTER ROLE']);

/**
 * One pass over the audit log. Records arrive oldest first, so a later record
 * simply replaces an earlier one.
 */
export async function readRoleActivity(logDir: string, adminUser: string): Promise<RoleActivity> {
  let since: string | null = null;
  const lastLogin = new Map<string, string>();
  const passwordSet = new Map<string, string>();
  const adminLogins = new Map<string, { count: number; last: string }>();
  for await (const record of readAuditLog(logDir)) {
    since ??= record.time;
    if (record.event === 'auth.succeeded' && typeof record.user === 'string') {
      lastLogin.set(record.user, record.time);
      if (record.user === adminUser) {
        const app = typeof record.applicationName === 'string' ? record.applicationName : '';
        const seen = adminLogins.get(app);
        adminLogins.set(app, { count: (seen?.count ?? 0) + 1, last: record.time });
      }
    } else if (record.event === 'statement' && setsPassword(record)) {
      for (const role of record.objects as unknown[]) {
        if (typeof role === 'string') passwordSet.set(role, record.time);
      }
    }
  }
  return { since, lastLogin, passwordSet, adminLogins };
}

/** A successful CREATE/ALTER ROLE whose (redacted) text still shows the PASSWORD keyword. */
function setsPassword(record: Record<string, unknown>): boolean {
  return (
    typeof record.command === 'string' &&
    ROLE_COMMANDS.has(record.command) &&
    Array.isArray(record.objects) &&
    record.error !== true &&
    (typeof record.statement !== 'string' || /\bpassword\b/i.test(record.statement))
  );
}
