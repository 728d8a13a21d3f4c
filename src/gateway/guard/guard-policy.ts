import type { GuardrailsConfig, PasswordsConfig } from '../../config/config-schema.js';
import type { PasswordPolicy } from '../../control/roles/password-policy.js';

/** What the statement guard enforces, from pgwarden.yaml (`guardrails`, `passwords`). */
export interface GuardPolicy {
  /** guardrails.privilegedRoles: the only roles that may hold privileged roles or attributes. */
  readonly privilegedRoles: ReadonlySet<string>;
  /** guardrails.checkPasswordStatements. */
  readonly checkPasswords: boolean;
  readonly passwordPolicy: PasswordPolicy;
}

/** The two config sections the guard reads; replaced as a whole on SIGHUP. */
export interface GuardSettings {
  readonly guardrails: GuardrailsConfig;
  readonly passwords: PasswordsConfig;
}

export function guardPolicy(settings: GuardSettings): GuardPolicy {
  return {
    privilegedRoles: new Set(settings.guardrails.privilegedRoles),
    checkPasswords: settings.guardrails.checkPasswordStatements,
    passwordPolicy: settings.passwords,
  };
}

/** What one inspection knows besides the SQL. */
export interface GuardContext {
  readonly policy: GuardPolicy;
  /** The authenticated role of the session (SESSION_USER). */
  readonly sessionUser: string;
}
