import { describeWho } from './login.js';
import type { LoginFacet } from './login-facet.js';

/**
 * login.new-principal: a role, or a principal for token logins, that has not
 * logged in for `days` (the cloud's "login by a principal not seen in 60 days").
 */
export function principalFacet(days: number): LoginFacet {
  return {
    kind: 'login.principal',
    alert: 'login.new-principal',
    windowDays: days,
    perSubject: false,
    valueOf: (login) => ({ value: '', label: login.identity }),
    labelOf: (value) => value,
    describe(login, _seen, _usual, lastSeen) {
      const last =
        lastSeen === undefined
          ? `no login in the last ${days} days`
          : `last login ${new Date(lastSeen).toISOString()}`;
      return {
        summary: `${describeWho(login)} logged in from ${login.address}: ${last}`,
        detail: last,
      };
    },
  };
}
