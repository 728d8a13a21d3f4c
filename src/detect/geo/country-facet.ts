import { describeWho } from '../baseline/login.js';
import type { LoginFacet } from '../baseline/login-facet.js';
import type { GeoDatabase } from './geo-database.js';
import { mmdbPath } from './mmdb-value.js';

/**
 * login.unusual-location: a login from a country (ISO 3166-1 alpha-2 code of
 * a GeoIP2/GeoLite2 Country or City database) the role or principal has not
 * logged in from in the last `days`. The registered country stands in when
 * the database has no location for the network (anycast, satellite).
 */
export function countryFacet(days: number, geo: GeoDatabase): LoginFacet {
  return {
    kind: 'login.country',
    alert: 'login.unusual-location',
    windowDays: days,
    perSubject: true,
    valueOf(login) {
      const record = geo.lookup(login.address);
      const code =
        mmdbPath(record, 'country', 'iso_code') ??
        mmdbPath(record, 'registered_country', 'iso_code');
      if (typeof code !== 'string' || !/^[A-Z]{2}$/.test(code)) return undefined;
      return { value: code, label: code };
    },
    labelOf: (value) => value,
    describe(login, seen, usual) {
      return {
        summary: `${describeWho(login)} logged in from ${login.address} in ${seen.label}, a country it has not logged in from in the last ${days} days`,
        detail: `country ${seen.label}; usual: ${usual.join(', ')}`,
      };
    },
  };
}
