import type { SecurityEvent } from '../security-events.js';

/** A failed login as the throttle and the brute-force detectors count it. */
export interface FailedLogin {
  /**
   * `unknown` when the role does not exist (the gateway's SCRAM exchange
   * against a mock verifier says `role unknown`); `existing` otherwise,
   * including the internal superuser and token logins, whose role may or
   * may not exist.
   */
  readonly role: 'existing' | 'unknown';
}

/**
 * Whether a security event is a guessed credential that was wrong: a failed
 * password or SCRAM proof, a login attempt on an internal role, a rejected
 * access token. Refusals that are no guess (no TLS, an MD5-only role,
 * conditional access, limits, timeouts) do not count.
 */
export function failedLogin(event: SecurityEvent): FailedLogin | undefined {
  switch (event.event) {
    case 'auth.failed':
      return { role: event.detail === 'role unknown' ? 'unknown' : 'existing' };
    case 'auth.internal-role':
    case 'auth.token-failed':
      return { role: 'existing' };
    default:
      return undefined;
  }
}
