import { randomInt } from 'node:crypto';

/**
 * The password policy (issue 6, item 5) as a pure function, so the CLI and,
 * later, the gateway's check of ALTER ROLE … PASSWORD share one definition.
 * Reuse of old passwords needs the stored verifiers and is checked apart
 * (password-reuse.ts); expiry is applied when the password is set.
 */
export interface PasswordPolicy {
  readonly minLength: number;
  /** How many of the four classes (lower, upper, digit, symbol) must appear. */
  readonly requireClasses: number;
  readonly forbidRoleName: boolean;
  /** Days until VALID UNTIL; 0 = never expires. */
  readonly expiryDays: number;
  /** How many previous verifiers per role are kept and may not be reused; 0 = no check. */
  readonly historySize: number;
}

export type PasswordViolationId =
  | 'too-short'
  | 'too-long'
  | 'invalid-characters'
  | 'too-few-classes'
  | 'contains-role-name'
  | 'reused';

export interface PasswordViolation {
  readonly id: PasswordViolationId;
  /** One line, never containing the password. */
  readonly message: string;
}

/** Longest password accepted (PostgreSQL itself takes more; nobody types this many). */
export const MAX_PASSWORD_LENGTH = 256;
/** Role names shorter than this are not looked for: "ab" would forbid too much by chance. */
export const MIN_ROLE_NAME_CHECKED = 3;

const CLASSES: readonly (readonly [string, RegExp])[] = [
  ['lower case', /[a-z]/],
  ['upper case', /[A-Z]/],
  ['digit', /[0-9]/],
  ['symbol', /[^A-Za-z0-9]/],
];

/** Checks a plaintext password against the policy; an empty list means it passes. */
export function checkPassword(
  password: string,
  role: string,
  policy: PasswordPolicy,
): PasswordViolation[] {
  const violations: PasswordViolation[] = [];
  const length = [...password].length;
  if (length < policy.minLength) {
    violations.push({
      id: 'too-short',
      message: `it has ${length} characters; the policy needs at least ${policy.minLength}`,
    });
  }
  if (length > MAX_PASSWORD_LENGTH) {
    violations.push({
      id: 'too-long',
      message: `it has ${length} characters; at most ${MAX_PASSWORD_LENGTH} are accepted`,
    });
  }
  // SCRAM needs SASLprep form; printable ASCII is its own SASLprep form.
  if (!/^[\x20-\x7e]*$/.test(password)) {
    violations.push({
      id: 'invalid-characters',
      message: 'it holds characters other than printable ASCII (letters, digits, symbols, space)',
    });
  }
  const present = CLASSES.filter(([, pattern]) => pattern.test(password)).map(([name]) => name);
  if (present.length < policy.requireClasses) {
    violations.push({
      id: 'too-few-classes',
      message: `it has ${present.length} of the character classes lower case, upper case, digit and symbol; the policy needs ${policy.requireClasses}`,
    });
  }
  if (
    policy.forbidRoleName &&
    role.length >= MIN_ROLE_NAME_CHECKED &&
    password.toLowerCase().includes(role.toLowerCase())
  ) {
    violations.push({
      id: 'contains-role-name',
      message: `it contains the role name "${role}" (in any case)`,
    });
  }
  return violations;
}

/** Letters, digits and symbols that need no quoting in a shell's double quotes or a .env file. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+=%@#^*';

/**
 * A random password that meets the policy: at least 32 characters (~196 bits)
 * drawn uniformly from ALPHABET, drawn again until checkPassword passes.
 */
export function generatePolicyPassword(role: string, policy: PasswordPolicy): string {
  const length = Math.min(MAX_PASSWORD_LENGTH, Math.max(32, policy.minLength));
  for (;;) {
    let password = '';
    for (let i = 0; i < length; i++) password += ALPHABET[randomInt(ALPHABET.length)];
    if (checkPassword(password, role, policy).length === 0) return password;
  }
}
