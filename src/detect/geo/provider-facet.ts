import { describeWho } from '../baseline/login.js';
import type { LoginFacet } from '../baseline/login-facet.js';
import type { GeoDatabase } from './geo-database.js';
import { mmdbPath } from './mmdb-value.js';

/**
 * login.unusual-provider: a login from an autonomous system (the data centre,
 * cloud or ISP network, from a GeoLite2/GeoIP2 ASN database) the role or
 * principal has not used in the last `days`.
 */
export function providerFacet(days: number, geo: GeoDatabase): LoginFacet {
  return {
    kind: 'login.asn',
    alert: 'login.unusual-provider',
    windowDays: days,
    perSubject: true,
    valueOf(login) {
      const record = geo.lookup(login.address);
      const asn = mmdbPath(record, 'autonomous_system_number');
      if ((typeof asn !== 'number' && typeof asn !== 'bigint') || asn <= 0) return undefined;
      const organization = mmdbPath(record, 'autonomous_system_organization');
      const label =
        typeof organization === 'string' && organization !== ''
          ? `AS${asn} ${organization}`
          : `AS${asn}`;
      return { value: String(asn), label };
    },
    labelOf: (value) => `AS${value}`,
    describe(login, seen, usual) {
      return {
        summary: `${describeWho(login)} logged in from ${login.address} through ${seen.label}, a provider it has not used in the last ${days} days`,
        detail: `provider ${seen.label}; usual: ${usual.join(', ')}`,
      };
    },
  };
}
