import { describeWho } from './login.js';
import type { LoginFacet } from './login-facet.js';
import { networkOf } from './network-prefix.js';

/**
 * login.new-network: a login from a network (the address's /ipv4Bits or
 * /ipv6Bits prefix) the role or principal has not used for `days` (the
 * cloud's "login from a domain not seen in 60 days", by network since a
 * gateway sees addresses, not domains).
 */
export function networkFacet(days: number, ipv4Bits: number, ipv6Bits: number): LoginFacet {
  return {
    kind: 'login.network',
    alert: 'login.new-network',
    windowDays: days,
    perSubject: true,
    valueOf(login) {
      const network = networkOf(login.address, ipv4Bits, ipv6Bits);
      return network === undefined ? undefined : { value: network, label: network };
    },
    labelOf: (value) => value,
    describe(login, seen, usual) {
      return {
        summary: `${describeWho(login)} logged in from ${login.address}, in network ${seen.label} it has not used in the last ${days} days`,
        detail: `network ${seen.label}; usual: ${usual.join(', ')}`,
      };
    },
  };
}
