import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { auditPaths } from '../../../src/audit/log/audit-paths.js';
import { AuditWriter } from '../../../src/audit/log/audit-writer.js';
import type { AlertCandidate } from '../../../src/detect/alert-candidate.js';
import {
  LEARNING_DAYS,
  LoginBaselineDetector,
} from '../../../src/detect/baseline/login-baseline-detector.js';
import type { LoginFacet } from '../../../src/detect/baseline/login-facet.js';
import { networkFacet } from '../../../src/detect/baseline/network-facet.js';
import { principalFacet } from '../../../src/detect/baseline/principal-facet.js';
import type { DetectionInput } from '../../../src/detect/detection-input.js';
import { countryFacet } from '../../../src/detect/geo/country-facet.js';
import { GeoDatabase } from '../../../src/detect/geo/geo-database.js';
import { providerFacet } from '../../../src/detect/geo/provider-facet.js';
import type { SecurityEvent } from '../../../src/gateway/security-events.js';
import { mmdb, writeMmdb } from '../../helpers/mmdb-writer.js';

const DAY = 86_400_000;
const START = Date.parse('2025-06-01T00:00:00Z');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-baseline-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Harness {
  detector: LoginBaselineDetector;
  warnings: string[];
  /** The clock the detector reads; tests move it. */
  now: { value: number };
  login(
    user: string,
    address: string,
    at: number,
    extra?: Partial<SecurityEvent>,
  ): AlertCandidate[];
}

async function harness(
  t: { after: (fn: () => void) => void },
  facets: LoginFacet[],
  options: { auditDir?: string; start?: boolean; seedBudgetMs?: number; at?: number } = {},
): Promise<Harness> {
  const warnings: string[] = [];
  const now = { value: options.at ?? START };
  const detector = new LoginBaselineDetector({
    facets,
    store: undefined,
    auditDir: options.auditDir ?? join(tempDir(t), 'audit'),
    onWarning: (w) => warnings.push(w),
    clock: () => now.value,
    ...(options.seedBudgetMs === undefined ? {} : { seedBudgetMs: options.seedBudgetMs }),
  });
  if (options.start !== false) await detector.start().ready;
  return {
    detector,
    warnings,
    now,
    login(user, address, at, extra = {}) {
      now.value = at;
      const input: DetectionInput = {
        kind: 'event',
        time: at,
        event: {
          event: 'auth.succeeded',
          address,
          user,
          database: 'shop',
          applicationName: 'web',
          ...extra,
        },
      };
      return [...detector.observe(input)];
    },
  };
}

const types = (alerts: readonly AlertCandidate[]): string[] => alerts.map((a) => a.type).sort();

/** Writes `auth.succeeded` records with the given times into an audit log. */
async function auditLogins(
  dir: string,
  logins: readonly { user: string; address: string; time: number; principal?: string }[],
): Promise<string> {
  const { logDir, keyFile } = auditPaths(dir);
  const writer = await AuditWriter.open({
    dir: logDir,
    keyFile,
    retentionDays: Number.POSITIVE_INFINITY,
  });
  void writer.append({
    code: 5001,
    event: 'statement',
    user: 'app',
    statement: 'SELECT 1',
    time: new Date(START - 1).toISOString(),
  });
  for (const login of logins) {
    void writer.append({
      code: 3001,
      event: 'auth.succeeded',
      time: new Date(login.time).toISOString(),
      user: login.user,
      address: login.address,
      ...(login.principal === undefined ? {} : { principal: login.principal }),
    });
  }
  await writer.close();
  return logDir;
}

describe('LoginBaselineDetector: learning, principals and networks', () => {
  const facets = (): LoginFacet[] => [principalFacet(60), networkFacet(60, 24, 48)];

  it('learns silently on a fresh server, then raises for a new principal and a new network once each', async (t) => {
    const h = await harness(t, facets());
    // Learning: the first logins of everyone, from anywhere, raise nothing.
    assert.deepEqual(h.login('admin', '10.0.0.5', START), []);
    assert.deepEqual(h.login('app', '10.0.0.6', START + DAY), []);
    assert.deepEqual(h.login('app', '192.0.2.1', START + 2 * DAY), []);
    const after = START + LEARNING_DAYS * DAY;
    // Past learning: the usual raises nothing.
    assert.deepEqual(h.login('app', '10.0.0.99', after), []);
    assert.deepEqual(h.login('admin', '10.0.0.5', after + 1), []);
    // A role never seen: one new-principal alert; its first network is not news as well.
    const report = h.login('report', '10.0.0.7', after + 2, { applicationName: 'metabase' });
    assert.deepEqual(types(report), ['login.new-principal']);
    assert.deepEqual(report[0], {
      type: 'login.new-principal',
      key: 'role:report',
      subject: { address: '10.0.0.7', user: 'report', principal: undefined },
      summary: 'role "report" logged in from 10.0.0.7: no login in the last 60 days',
      evidence: [
        {
          time: new Date(after + 2).toISOString(),
          event: 'auth.succeeded',
          address: '10.0.0.7',
          user: 'report',
          database: 'shop',
          applicationName: 'metabase',
          detail: 'no login in the last 60 days',
        },
      ],
    });
    assert.deepEqual(h.login('report', '10.0.0.8', after + 3), [], 'seen now');
    // A known role from a network it never used.
    const away = h.login('app', '203.0.113.50', after + 4);
    assert.deepEqual(types(away), ['login.new-network']);
    assert.equal(away[0]?.key, 'role:app 203.0.113.0/24');
    assert.equal(
      away[0]?.summary,
      'role "app" logged in from 203.0.113.50, in network 203.0.113.0/24 it has not used in the last 60 days',
    );
    assert.equal(
      away[0]?.evidence[0]?.detail,
      'network 203.0.113.0/24; usual: 10.0.0.0/24, 192.0.2.0/24',
    );
    assert.deepEqual(h.login('app', '203.0.113.51', after + 5), [], 'once per network');
  });

  it('raises again for a principal or network not seen for the window', async (t) => {
    const h = await harness(t, facets());
    h.login('app', '10.0.0.6', START);
    h.login('app', '192.0.2.1', START + 50 * DAY);
    const back = START + 70 * DAY;
    // 10.0.0.0/24 was last used 70 days ago: not usual any more; 192.0.2.0/24 still is.
    const alerts = h.login('app', '10.0.0.6', back);
    assert.deepEqual(types(alerts), ['login.new-network']);
    assert.equal(alerts[0]?.evidence[0]?.detail, 'network 10.0.0.0/24; usual: 192.0.2.0/24');
    // A principal back after the window: new again, with when it was last seen.
    const late = h.login('app', '192.0.2.1', back + 61 * DAY);
    assert.deepEqual(types(late), ['login.new-principal']);
    assert.equal(late[0]?.evidence[0]?.detail, `last login ${new Date(back).toISOString()}`);
  });

  it('keeps token principals apart from their role, and IPv6 networks by their /48', async (t) => {
    const h = await harness(t, facets());
    h.login('app', '2001:db8:1:2::1', START, { principal: '7 (user alice of corp)' });
    const after = START + LEARNING_DAYS * DAY;
    assert.deepEqual(
      h.login('app', '2001:db8:1:ffff::9', after, { principal: '7 (user alice of corp)' }),
      [],
    );
    const other = h.login('app', '2001:db8:1:2::1', after + 1, {
      principal: '8 (user bob of corp)',
    });
    assert.deepEqual(types(other), ['login.new-principal']);
    assert.equal(other[0]?.key, 'principal:8');
    assert.equal(other[0]?.subject.principal, '8 (user bob of corp)');
    assert.match(
      other[0]?.summary ?? '',
      /^principal 8 \(user bob of corp\) \(role "app"\) logged in/,
    );
    const moved = h.login('app', '2001:db8:2::1', after + 2, {
      principal: '7 (user alice of corp)',
    });
    assert.deepEqual(types(moved), ['login.new-network']);
    assert.equal(moved[0]?.key, 'principal:7 2001:db8:2::/48');
  });

  it('holds logins until loaded, judges them then, and hands their alerts out with the next input', async (t) => {
    const dir = tempDir(t);
    const logDir = await auditLogins(dir, [
      { user: 'app', address: '10.0.0.6', time: START - 30 * DAY },
      { user: 'app', address: '10.0.0.7', time: START - 10 * DAY },
    ]);
    const h = await harness(t, facets(), { auditDir: logDir, start: false });
    // Before the history is read: nothing is judged yet.
    assert.deepEqual(h.login('intruder', '10.0.0.9', START), []);
    assert.deepEqual(h.login('app', '10.0.0.8', START + 1), []);
    await h.detector.start().ready;
    const released = [
      ...h.detector.observe({
        kind: 'event',
        time: START + 2,
        event: { event: 'connection.received', address: '10.0.0.1' },
      }),
    ];
    assert.deepEqual(types(released), ['login.new-principal']);
    assert.equal(released[0]?.subject.user, 'intruder');
    assert.equal(
      released[0]?.evidence[0]?.time,
      new Date(START).toISOString(),
      'the held login, as it was',
    );
    assert.deepEqual(
      [
        ...h.detector.observe({
          kind: 'event',
          time: START + 3,
          event: { event: 'connection.received', address: '10.0.0.1' },
        }),
      ],
      [],
    );
  });
  it('hands alerts about held logins to an attached callback at once', async (t) => {
    const dir = tempDir(t);
    const logDir = await auditLogins(dir, [
      { user: 'app', address: '10.0.0.6', time: START - 30 * DAY },
    ]);
    const h = await harness(t, facets(), { auditDir: logDir, start: false });
    const raised: AlertCandidate[] = [];
    h.detector.attach((candidate) => raised.push(candidate));
    assert.deepEqual(h.login('intruder', '10.0.0.9', START), []);
    assert.equal(raised.length, 0);
    await h.detector.start().ready;
    assert.deepEqual(types(raised), ['login.new-principal']);
    assert.equal(raised[0]?.subject.user, 'intruder');
    assert.deepEqual(h.login('app', '10.0.0.10', START + 1), []);
  });
});

describe('LoginBaselineDetector: seeding from the audit log', () => {
  it('seeds from the logins of the window, so known roles are not new and learning is over', async (t) => {
    const dir = tempDir(t);
    const logDir = await auditLogins(dir, [
      { user: 'old', address: '10.9.9.9', time: START - 90 * DAY }, // outside both windows
      { user: 'app', address: '10.0.0.6', time: START - 30 * DAY },
      { user: 'app', address: '192.0.2.6', time: START - 5 * DAY },
      { user: 'app', address: '10.0.0.7', time: START - 1 * DAY, principal: '3 (user x of corp)' },
    ]);
    const h = await harness(t, [principalFacet(60), networkFacet(60, 24, 48)], {
      auditDir: logDir,
    });
    assert.deepEqual(h.warnings, []);
    assert.deepEqual(h.login('app', '10.0.0.99', START), []);
    assert.deepEqual(h.login('app', '192.0.2.99', START + 1), []);
    assert.deepEqual(
      h.login('app', '10.0.0.1', START + 2, { principal: '3 (user x of corp)' }),
      [],
    );
    // History reaches back 30 days: past learning, so the unknown and the forgotten are news.
    assert.deepEqual(types(h.login('old', '10.9.9.9', START + 3)), ['login.new-principal']);
    assert.deepEqual(types(h.login('app', '198.51.100.1', START + 4)), ['login.new-network']);
  });

  it('a log younger than the learning period keeps learning', async (t) => {
    const dir = tempDir(t);
    const logDir = await auditLogins(dir, [
      { user: 'app', address: '10.0.0.6', time: START - 2 * DAY },
    ]);
    const h = await harness(t, [principalFacet(60), networkFacet(60, 24, 48)], {
      auditDir: logDir,
    });
    assert.deepEqual(h.login('someone', '198.51.100.1', START), []);
    assert.deepEqual(
      types(h.login('other', '198.51.100.1', START - 2 * DAY + LEARNING_DAYS * DAY)),
      ['login.new-principal'],
    );
  });

  it('stops seeding when its time is up, says so, and keeps what it read', async (t) => {
    const dir = tempDir(t);
    const logDir = await auditLogins(dir, [
      { user: 'app', address: '10.0.0.6', time: START - 20 * DAY },
    ]);
    const h = await harness(t, [principalFacet(60)], { auditDir: logDir, seedBudgetMs: -1 });
    assert.equal(h.warnings.length, 1);
    assert.match(h.warnings[0] ?? '', /not read to its start in time/);
  });
});

describe('LoginBaselineDetector: GeoIP facets', () => {
  it('raises unusual-location and unusual-provider for a new country and autonomous system', async (t) => {
    const dir = tempDir(t);
    const city = join(dir, 'city.mmdb');
    const asn = join(dir, 'asn.mmdb');
    writeFileSync(
      city,
      writeMmdb([
        { network: '127.0.0.0/24', data: { country: { iso_code: 'DE' } } },
        { network: '127.0.1.0/24', data: { country: { iso_code: 'FR' } } },
        { network: '127.0.3.0/24', data: { country: { iso_code: 'DE' } } },
      ]),
    );
    writeFileSync(
      asn,
      writeMmdb([
        {
          network: '127.0.0.0/24',
          data: {
            autonomous_system_number: mmdb.uint32(64_500),
            autonomous_system_organization: 'Example DC',
          },
        },
        {
          network: '127.0.1.0/24',
          data: {
            autonomous_system_number: mmdb.uint32(64_501),
            autonomous_system_organization: 'Example Transit',
          },
        },
        {
          network: '127.0.3.0/24',
          data: {
            autonomous_system_number: mmdb.uint32(64_500),
            autonomous_system_organization: 'Example DC',
          },
        },
      ]),
    );
    const h = await harness(t, [
      countryFacet(60, await GeoDatabase.open(city, () => undefined)),
      providerFacet(60, await GeoDatabase.open(asn, () => undefined)),
    ]);
    h.login('app', '127.0.0.5', START);
    const after = START + LEARNING_DAYS * DAY;
    // Another network in the same country and provider: nothing (networks are not in this set).
    assert.deepEqual(h.login('app', '127.0.3.9', after), []);
    // Addresses the databases do not know say nothing.
    assert.deepEqual(h.login('app', '10.1.1.1', after + 1), []);
    const abroad = h.login('app', '127.0.1.5', after + 2);
    assert.deepEqual(types(abroad), ['login.unusual-location', 'login.unusual-provider']);
    const location = abroad.find((a) => a.type === 'login.unusual-location');
    const provider = abroad.find((a) => a.type === 'login.unusual-provider');
    assert.equal(location?.key, 'role:app FR');
    assert.equal(location?.evidence[0]?.detail, 'country FR; usual: DE');
    assert.equal(provider?.key, 'role:app 64501');
    assert.equal(provider?.evidence[0]?.detail, 'provider AS64501 Example Transit; usual: AS64500');
    assert.match(
      provider?.summary ?? '',
      /through AS64501 Example Transit, a provider it has not used/,
    );
    assert.deepEqual(h.login('app', '127.0.1.6', after + 3), [], 'once each');
  });
});
