import { isAbsolute, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { auditPaths } from '../../audit/log/audit-paths.js';
import type { Detector } from '../detector.js';
import { countryFacet } from '../geo/country-facet.js';
import { GeoDatabase } from '../geo/geo-database.js';
import { providerFacet } from '../geo/provider-facet.js';
import type { DetectionDeps } from '../threat-detection.js';
import { BaselineStore } from './baseline-store.js';
import { LoginBaselineDetector } from './login-baseline-detector.js';
import type { LoginFacet } from './login-facet.js';
import { networkFacet } from './network-facet.js';
import { principalFacet } from './principal-facet.js';

/**
 * How long the gateway waits for the state database's baselines before it
 * listens. Usually one query; the audit-log seeding that may follow is not
 * waited for (logins meanwhile are held, see LoginBaselineDetector).
 */
const LOAD_WAIT_MS = 2000;

/**
 * The login baseline detectors (login.new-principal, login.new-network, and
 * login.unusual-location / login.unusual-provider when GeoIP files are
 * configured). Relative file paths are taken from the data directory.
 */
export async function createLoginBaselineDetectors(
  deps: Pick<DetectionDeps, 'config' | 'layout' | 'state' | 'onWarning'>,
): Promise<Detector[]> {
  const { config, layout } = deps;
  const warn = (message: string): void => deps.onWarning(message);
  const facets: LoginFacet[] = [
    principalFacet(config.newPrincipalDays),
    networkFacet(config.newNetworkDays, config.networkPrefixIpv4, config.networkPrefixIpv6),
  ];
  const inDataDir = (file: string): string =>
    isAbsolute(file) ? file : resolve(layout.root, file);
  // Countries and providers are places a role logs in from, like networks: same window.
  if (config.geoip.countryFile !== undefined) {
    const geo = await GeoDatabase.open(inDataDir(config.geoip.countryFile), warn);
    facets.push(countryFacet(config.newNetworkDays, geo));
  }
  if (config.geoip.asnFile !== undefined) {
    const geo = await GeoDatabase.open(inDataDir(config.geoip.asnFile), warn);
    facets.push(providerFacet(config.newNetworkDays, geo));
  }
  const detector = new LoginBaselineDetector({
    facets,
    store: deps.state === undefined ? undefined : new BaselineStore(deps.state, warn),
    auditDir: auditPaths(layout.root).logDir,
    onWarning: warn,
  });
  const { loaded } = detector.start();
  await Promise.race([loaded, sleep(LOAD_WAIT_MS, undefined, { ref: false })]);
  return [detector];
}
