import { isRecord, type PgNode } from '../../audit/classify/pg-parser.js';
import { SCRAM_ITERATIONS } from '../../auth/scram-secret.js';
import { checkPassword } from '../../control/roles/password-policy.js';
import { parseScramVerifier } from '../auth/scram-verifier.js';
import type { Findings, Site } from './guard-findings.js';
import type { GuardContext } from './guard-policy.js';
import { displayRole, PASSWORD_HINT } from './guard-refusal.js';

/** What PostgreSQL stores as given, as an md5 hash (get_password_type: "md5" + 32 lower-case hex). */
const MD5_HASH = /^md5[0-9a-f]{32}$/;

/**
 * The PASSWORD option of CREATE/ALTER ROLE, checked the way PostgreSQL will
 * read it (docs 21.5 "Password Authentication", and get_password_type in
 * src/backend/libpq/crypt.c): an md5 hash is stored as given; a valid
 * SCRAM-SHA-256 verifier (what psql's \password sends) is stored as given;
 * anything else is a cleartext password the server hashes itself.
 *
 * - md5 is refused: deprecated, and the gateway logs in with SCRAM only.
 * - A verifier can only be checked for its form and iteration count; the
 *   strength of the password behind it cannot be known.
 * - Cleartext goes through the password policy (checkPassword); for an
 *   existing role, a cleartext that passes is then compared with the role's
 *   previous verifiers (a catalog check).
 *
 * Messages name the rule and the role, never the password.
 */
export function checkPasswordOption(
  option: PgNode,
  role: { readonly name: string; readonly existing: boolean },
  context: GuardContext,
  findings: Findings,
  site: Site,
): void {
  if (!context.policy.checkPasswords) return;
  const value = stringArg(option.arg);
  // PASSWORD NULL, or '' (which PostgreSQL turns into NULL): no password to check.
  if (value === undefined || value === '') return;
  const shown = displayRole(role.name);
  if (MD5_HASH.test(value)) {
    findings.refuse({
      reason: 'password-md5',
      sqlState: '22023',
      message: `pgwarden: an md5 password hash for role ${shown} is refused: md5 is deprecated and the gateway logs in with SCRAM-SHA-256 only`,
      hint: 'send the password itself over TLS, or a SCRAM-SHA-256 verifier (psql \\password)',
      ...site,
    });
    return;
  }
  if (value.startsWith('SCRAM-SHA-256$')) {
    const verifier = parseScramVerifier(value);
    if (verifier !== undefined) {
      if (verifier.iterations < SCRAM_ITERATIONS) {
        findings.refuse({
          reason: 'password-verifier',
          sqlState: '22023',
          message: `pgwarden: the SCRAM-SHA-256 verifier for role ${shown} has ${verifier.iterations} iterations; at least ${SCRAM_ITERATIONS} are required`,
          hint: 'let the client compute it with the default iteration count (psql \\password does)',
          ...site,
        });
      }
      return;
    }
    // Not a valid verifier: PostgreSQL takes it as a cleartext password.
  }
  const violations = checkPassword(value, role.name, context.policy.passwordPolicy);
  if (violations.length > 0) {
    findings.refuse({
      reason: 'password-policy',
      sqlState: '22023',
      message: `pgwarden: the new password of role ${shown} breaks the password policy: ${violations
        .map((v) => `${v.id} (${v.message})`)
        .join('; ')}`,
      hint: PASSWORD_HINT,
      ...site,
    });
    return;
  }
  if (role.existing && context.policy.passwordPolicy.historySize > 0) {
    findings.reuse.push({ role: role.name, password: value, site });
  }
}

function stringArg(arg: unknown): string | undefined {
  if (!isRecord(arg) || !isRecord(arg.String)) return undefined;
  const value = arg.String.sval;
  return typeof value === 'string' ? value : '';
}
