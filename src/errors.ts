/**
 * The one error model of pgwarden (after panva/jose): a base error with a
 * stable `code`, an optional `hint` telling the user what to do, and the
 * original `cause` kept for `--debug`. Codes are listed once, in ERROR_CODES;
 * `docs/errors.md` documents each and a test keeps the two in step.
 */

export const ERROR_CODES = {
  PGW_USAGE: 'The command line is not valid.',
  PGW_CONFIG_INVALID: 'The configuration file or an option has an invalid value or an unknown key.',
  PGW_CONFIG_NOT_FOUND: 'The configuration file given with --config does not exist.',
  PGW_DATA_DIR_NOT_DIRECTORY: 'The data directory path exists but is not a directory.',
  PGW_DATA_DIR_NOT_WRITABLE: 'The data directory cannot be created or written by pgwarden.',
  PGW_DATA_DIR_NOT_EMPTY: 'The data directory holds files that pgwarden did not create.',
  PGW_DATA_DIR_NOT_INITIALISED: 'The data directory has not been initialised.',
  PGW_DATA_DIR_VERSION_MISMATCH:
    'The data directory was initialised by another PostgreSQL major version than the binaries chosen.',
  PGW_DATA_DIR_UNREACHABLE: 'The unprivileged OS user cannot reach the data directory.',
  PGW_SOCKET_PATH_TOO_LONG: 'The unix socket path would exceed the operating system limit.',
  PGW_BINARIES_NOT_FOUND: 'No usable PostgreSQL binaries were found.',
  PGW_BINARIES_UNSUPPORTED:
    'The PostgreSQL binaries are of a major version pgwarden does not support.',
  PGW_BINARIES_UNUSABLE: 'The PostgreSQL binaries cannot be run by the OS user PostgreSQL runs as.',
  PGW_OS_USER_FAILED: 'The unprivileged OS user for PostgreSQL could not be found or created.',
  PGW_INITDB_FAILED: 'initdb failed to create the cluster.',
  PGW_SERVER_START_FAILED: 'PostgreSQL did not start.',
  PGW_SERVER_STOP_FAILED: 'PostgreSQL or the pgwarden supervisor did not stop in time.',
  PGW_SERVER_NOT_RUNNING: 'The command needs a running server, and none is running.',
  PGW_SERVER_EXITED: 'PostgreSQL exited unexpectedly while pgwarden was supervising it.',
  PGW_STATE_SCHEMA_TOO_NEW: 'The state database was migrated by a newer pgwarden.',
  PGW_PARAMETER_UNKNOWN: 'PostgreSQL has no parameter of that name.',
  PGW_PARAMETER_NOT_ALLOWED: 'The parameter is not on the list of parameters users may change.',
  PGW_PARAMETER_PROTECTED:
    'The parameter is managed by pgwarden because changing it would weaken security.',
  PGW_PARAMETER_INVALID_VALUE: 'The value is not valid for the parameter.',
  PGW_FIREWALL_RULE_INVALID: 'A firewall rule has an invalid name or address range.',
  PGW_FIREWALL_RULE_EXISTS: 'A firewall rule of that name already exists.',
  PGW_FIREWALL_RULE_NOT_FOUND: 'No firewall rule has that name.',
  PGW_GATEWAY_LISTEN_FAILED: 'The gateway could not listen on its port.',
  PGW_IDENTITY_INVALID: 'An identity provider or principal has an invalid value.',
  PGW_IDENTITY_EXISTS: 'An identity provider or principal with that name or id already exists.',
  PGW_IDENTITY_NOT_FOUND: 'No identity provider or principal matches.',
  PGW_AUDIT_KEY_INVALID:
    'The audit log key is missing, unreadable, of the wrong size, or accessible by other users.',
  PGW_AUDIT_LOG_TAMPERED: 'The audit log is not intact: a record was altered, removed or moved.',
  PGW_AUDIT_WRITE_FAILED: 'An audit record could not be written to disk.',
  PGW_AUDIT_SERVER_SIDE_UNAVAILABLE:
    "pgaudit is not installed for the server's PostgreSQL binaries.",
  PGW_JIT_INVALID:
    'A just-in-time access request or setting has an invalid role, duration, reason or approver role.',
  PGW_JIT_NOT_FOUND: 'No just-in-time access request has that id.',
  PGW_JIT_REQUEST_CLOSED: 'The access request was already approved, denied or has expired.',
  PGW_JIT_APPROVAL_REFUSED:
    'The user may not approve or deny the request (no approver role, not a member of it, or the requester).',
  PGW_JIT_LOGIN_FAILED: 'The user could not prove who they are by logging in through the gateway.',
  PGW_PASSWORD_POLICY:
    'The new password breaks the password policy (length, character classes, role name, or reuse).',
  PGW_PASSWORD_ROLE_REFUSED:
    'pgwarden does not set passwords of that role: it does not exist, is internal (pgwarden_*, pg_*) or is a superuser.',
  PGW_OUTPUT_FILE_EXISTS: 'The output file already exists; pgwarden does not overwrite it.',
  PGW_ACCESS_SPEC_INVALID: 'The access spec is not valid, or names an object that does not exist.',
  PGW_ACCESS_SPEC_REFUSED:
    'The access spec would give a role more power than the guardrails allow, or touch an internal role.',
  PGW_ACCESS_PLAN_CHANGED:
    'The plan is not the one reviewed: its fingerprint differs from --expect.',
  PGW_ACCESS_APPLY_FAILED: 'The server refused a statement of the plan; nothing was changed.',
  PGW_ACCESS_NOT_APPLIED: 'No access spec has been applied to the database yet.',
  PGW_HONEYTOKEN_INVALID:
    'A honeytoken request names a table, column, condition or value that is not valid.',
  PGW_HONEYTOKEN_NO_MARKER:
    'The selected rows have no distinctive text value to watch, or the table no text column.',
  PGW_HONEYTOKEN_LIMIT: 'The request would mark more rows, or keep more honeytokens, than allowed.',
  PGW_HONEYTOKEN_NOT_FOUND: 'No honeytoken has that id.',
  PGW_ALERT_NOT_FOUND: 'No alert has that id.',
  PGW_ALERT_INVALID:
    'An alert id, status, type, severity or export format is not valid, or the alert is resolved.',
  PGW_INTERNAL: 'An unexpected internal error; please report it.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface PgwardenErrorOptions {
  /** What the user can do about it, one sentence. Required: every error tells the user a way on. */
  readonly hint: string;
  readonly cause?: unknown;
  /** Extra lines shown under the message (e.g. the last server log lines). */
  readonly details?: readonly string[];
}

export class PgwardenError extends Error {
  override readonly name = 'PgwardenError';
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: PgwardenErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** Exit status of the CLI for an error: 2 for bad usage, 1 for everything else. */
export function exitCodeFor(error: PgwardenError): number {
  return error.code === 'PGW_USAGE' || error.code === 'PGW_CONFIG_INVALID' ? 2 : 1;
}

export function isPgwardenError(value: unknown): value is PgwardenError {
  return value instanceof PgwardenError;
}

/** The message of any thrown value, without its stack. */
export function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}
