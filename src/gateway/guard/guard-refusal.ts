import type { SecurityEventName } from '../security-events.js';

/**
 * Why the statement guard refused a statement: stable ids, carried by the
 * security event and listed in docs/guardrails.md.
 */
export type GuardReason =
  /** A privileged predefined role, or a role that holds one, granted to a role not on the allow-list. */
  | 'privileged-role'
  /** SUPERUSER, BYPASSRLS or REPLICATION given to a role not on the allow-list. */
  | 'privileged-attribute'
  /** pgwarden_su, pgwarden_admin or pgwarden_token_login granted, revoked, altered, dropped or renamed. */
  | 'internal-role'
  /** Text the guard cannot see through (dynamic SQL, an unparsable body) that names a privileged role or attribute. */
  | 'unchecked-sql'
  /** DO inside EXECUTE inside a function body… deeper than the guard follows. */
  | 'too-deep'
  /** The catalog could not be read to check a role grant. */
  | 'catalog-unavailable'
  | 'password-policy'
  | 'password-md5'
  | 'password-verifier'
  | 'password-reused';

/**
 * SQLSTATEs, as PostgreSQL uses them: 42501 insufficient_privilege is what
 * the server itself says when a role may not grant a role or an attribute
 * ("permission denied to grant role …"); 22023 invalid_parameter_value is
 * what contrib/passwordcheck raises for a password it refuses. 28P01
 * (invalid_password) is not used: class 28 means a failed login, and
 * drivers treat it as one.
 */
export type GuardSqlState = '42501' | '22023';

export interface GuardRefusal {
  readonly reason: GuardReason;
  readonly sqlState: GuardSqlState;
  /** One actionable line starting with "pgwarden:"; never holds a password. */
  readonly message: string;
  readonly hint: string;
  /** The kind of the refused statement: GRANT ROLE, ALTER ROLE, CREATE ROLE… */
  readonly statement: string;
  /** Where it was found: '' at the top level, else e.g. "DO > EXECUTE". */
  readonly within: string;
}

/** The security event of each reason: escalations, pgwarden's own roles, passwords. */
export function refusalEvent(reason: GuardReason): SecurityEventName {
  if (reason.startsWith('password-')) return 'guard.password';
  if (reason === 'internal-role') return 'guard.internal-role';
  return 'guard.escalation';
}

export const ALLOW_LIST_HINT =
  'add the role to guardrails.privilegedRoles in pgwarden.yaml if it really needs this; see docs/guardrails.md';

export const INTERNAL_HINT =
  "pgwarden's internal roles are managed by pgwarden only; see docs/guardrails.md";

export const PASSWORD_HINT =
  'choose a password that meets the passwords section of pgwarden.yaml, or run `pgwarden role password rotate`';

/**
 * A role name for a message: double-quoted, and shown as printable ASCII
 * (others as \uXXXX), so the refusal text is the same in every
 * client_encoding and cannot close the string it is quoted in.
 */
export function displayRole(name: string): string {
  return `"${asciiText(name)}"`;
}

export function asciiText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out += unit >= 0x20 && unit < 0x7f ? text[i] : `\\u${unit.toString(16).padStart(4, '0')}`;
  }
  return out;
}
