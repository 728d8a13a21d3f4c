import type { SecurityEvent } from '../../gateway/security-events.js';

/** One successful login through the gateway: what the login baselines learn from and judge. */
export interface Login {
  /** ms since the epoch. */
  readonly time: number;
  /**
   * Who the baselines are about: `role:<name>`, or `principal:<id>` for a
   * token login, since one role may serve many principals (group mapping)
   * and each person has their own usual places.
   */
  readonly identity: string;
  readonly user: string;
  readonly principal?: string | undefined;
  readonly address: string;
  readonly database?: string | undefined;
  readonly applicationName?: string | undefined;
}

/** detection_baselines.subject holds at most 200 characters. */
const MAX_IDENTITY = 200;

/** A live `auth.succeeded` event as a login; undefined for any other event. */
export function loginFromEvent(event: SecurityEvent, time: number): Login | undefined {
  if (event.event !== 'auth.succeeded' || event.user === undefined) return undefined;
  return {
    time,
    identity: identityOf(event.user, event.principal),
    user: event.user,
    principal: event.principal,
    address: event.address,
    database: event.database,
    applicationName: event.applicationName,
  };
}

/** An `auth.succeeded` record of the audit log (same fields as the event) as a login. */
export function loginFromAuditRecord(record: Readonly<Record<string, unknown>>): Login | undefined {
  const { user, address, principal, database, applicationName } = record;
  const time = typeof record.time === 'string' ? Date.parse(record.time) : Number.NaN;
  if (record.event !== 'auth.succeeded' || typeof user !== 'string' || typeof address !== 'string')
    return undefined;
  if (!Number.isFinite(time)) return undefined;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : undefined;
  return {
    time,
    identity: identityOf(user, text(principal)),
    user,
    principal: text(principal),
    address,
    database: text(database),
    applicationName: text(applicationName),
  };
}

/** The gateway writes a principal as `<id> (<type> <subject> of <provider>)`: the id is what stays. */
function identityOf(user: string, principal: string | undefined): string {
  const identity =
    principal === undefined ? `role:${user}` : `principal:${principal.split(' (')[0] ?? principal}`;
  return identity.slice(0, MAX_IDENTITY);
}

/** How a login's who is written in alerts: the role, and the principal for a token login. */
export function describeWho(login: Login): string {
  return login.principal === undefined
    ? `role "${login.user}"`
    : `principal ${login.principal} (role "${login.user}")`;
}
