import type { AccessPolicy, LoginContext } from '../../../src/access/conditional-access.js';

/** An enabled allow policy for everyone, priority 100, with the given changes. */
export function policy(name: string, changes: Partial<AccessPolicy> = {}): AccessPolicy {
  return {
    name,
    priority: 100,
    effect: 'allow',
    enabled: true,
    subjects: {},
    conditions: {},
    ...changes,
  };
}

/** Tuesday 2025-03-04 10:15 in Berlin (09:15 UTC). */
export const TUESDAY_MORNING = new Date('2025-03-04T09:15:00Z');

/** A password login by app_rw from 10.1.2.3 at TUESDAY_MORNING, with the given changes. */
export function login(changes: Partial<LoginContext> = {}): LoginContext {
  return {
    role: 'app_rw',
    address: '10.1.2.3',
    clientCertificate: false,
    method: 'password',
    at: TUESDAY_MORNING,
    ...changes,
  };
}

/** A token login with the given claims. */
export function tokenLogin(changes: Partial<LoginContext> = {}): LoginContext {
  return login({ method: 'token', principalId: 'u-1001', ...changes });
}
