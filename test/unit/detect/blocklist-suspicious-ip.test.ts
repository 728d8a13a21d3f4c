import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { DetectionConfigSchema } from '../../../src/config/config-schema.js';
import type { AlertCandidate } from '../../../src/detect/alert-candidate.js';
import { AddressBlocklist } from '../../../src/detect/blocklist/address-blocklist.js';
import { PolledFile } from '../../../src/detect/blocklist/polled-file.js';
import { SuspiciousIpDetector } from '../../../src/detect/blocklist/suspicious-ip-detector.js';
import { createSuspiciousIpDetectors } from '../../../src/detect/blocklist/suspicious-ip-detectors.js';
import type { DetectionInput } from '../../../src/detect/detection-input.js';
import type { SecurityEvent } from '../../../src/gateway/security-events.js';
import { dataDirLayout } from '../../../src/server/data-dir-layout.js';

const HOUR = 3_600_000;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-blocklist-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let tick = 1_700_000_000;
function write(path: string, content: string): void {
  writeFileSync(path, content);
  tick += 10;
  utimesSync(path, tick, tick);
}

const event = (time: number, e: SecurityEvent): DetectionInput => ({
  kind: 'event',
  time,
  event: e,
});
const login = (time: number, address: string, user = 'app'): DetectionInput =>
  event(time, { event: 'auth.succeeded', address, user, database: 'shop', applicationName: 'web' });

/** Resolves once `check` holds (called until it does, then not again), giving background reads a few turns. */
/**
 * Polls until `check` holds. The re-read runs on the thread pool, which a
 * loaded machine may not serve within any number of event-loop turns, so
 * this waits in small sleeps, up to a bound that only a hang reaches.
 */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail('the condition never held');
}

describe('SuspiciousIpDetector', () => {
  const list = AddressBlocklist.parse('# bad\n203.0.113.0/24\n');
  const observe = (detector: SuspiciousIpDetector, input: DetectionInput): AlertCandidate[] => [
    ...detector.observe(input),
  ];

  it('raises once per address per hour for logins and login attempts from a listed address', () => {
    const detector = new SuspiciousIpDetector(() => list);
    const first = observe(detector, login(1000, '203.0.113.9'));
    assert.equal(first.length, 1);
    assert.deepEqual(first[0], {
      type: 'login.suspicious-ip',
      key: '203.0.113.9',
      subject: { address: '203.0.113.9', user: 'app', principal: undefined },
      summary: '203.0.113.9, on the blocklist (203.0.113.0/24), logged in as "app"',
      evidence: [
        {
          time: new Date(1000).toISOString(),
          event: 'auth.succeeded',
          address: '203.0.113.9',
          user: 'app',
          database: 'shop',
          applicationName: 'web',
          detail: 'blocklist line 2: 203.0.113.0/24',
        },
      ],
    });
    // The same address within the hour: counted by the alert store, not raised again.
    assert.equal(observe(detector, login(2000, '203.0.113.9')).length, 0);
    assert.equal(
      observe(detector, event(3000, { event: 'auth.failed', address: '203.0.113.9', user: 'x' }))
        .length,
      0,
    );
    // Another listed address is its own alert; an attempt counts like a login.
    const attempt = observe(
      detector,
      event(4000, { event: 'auth.failed', address: '203.0.113.10', user: 'postgres' }),
    );
    assert.equal(attempt.length, 1);
    assert.equal(
      attempt[0]?.summary,
      '203.0.113.10, on the blocklist (203.0.113.0/24), tried to log in (auth.failed) as "postgres"',
    );
    // An hour later the first address raises again.
    assert.equal(observe(detector, login(1000 + HOUR, '203.0.113.9')).length, 1);
  });

  it('ignores unlisted addresses, and contact the firewall turned away', () => {
    const detector = new SuspiciousIpDetector(() => list);
    assert.equal(observe(detector, login(1, '198.51.100.1')).length, 0);
    assert.equal(
      observe(detector, event(2, { event: 'connection.received', address: '203.0.113.9' })).length,
      0,
    );
    assert.equal(
      observe(detector, event(3, { event: 'firewall.denied', address: '203.0.113.9' })).length,
      0,
    );
    assert.equal(observe(detector, login(4, '203.0.113.9')).length, 1, 'the detector is live');
    const none = new SuspiciousIpDetector(() => undefined);
    assert.equal(observe(none, login(5, '203.0.113.9')).length, 0);
  });
});

describe('the blocklist file', () => {
  it('is re-read when it changes, at most once per interval', async (t) => {
    const path = join(tempDir(t), 'blocklist.txt');
    write(path, '203.0.113.0/24\n');
    let now = 0;
    const file = new PolledFile(
      path,
      (c) => AddressBlocklist.parse(c.toString()),
      () => undefined,
      5000,
      () => now,
    );
    await file.refresh();
    assert.equal(file.current()?.match('203.0.113.1')?.line, 1);
    write(path, '# moved\n198.51.100.0/24\n');
    now = 4999;
    file.current();
    for (let i = 0; i < 20; i++) await nextTurn();
    assert.equal(file.current()?.match('203.0.113.1')?.line, 1, 'not checked before the interval');
    now = 5000;
    file.current();
    await eventually(() => file.current()?.match('198.51.100.1')?.line === 2);
    assert.equal(file.current()?.match('203.0.113.1'), undefined);
  });

  it('reports each malformed line once, with its line number, across reloads', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'blocklist.txt');
    write(path, '203.0.113.0/24\nbogus\n');
    const warnings: string[] = [];
    const config = DetectionConfigSchema.parse({ blocklistFile: 'blocklist.txt' });
    const [detector] = await createSuspiciousIpDetectors(
      { config, layout: dataDirLayout(dir), onWarning: (w) => warnings.push(w) },
      0,
    );
    assert.ok(detector);
    assert.deepEqual(warnings, [
      `blocklist ${path} line 2: "bogus" is not an address or CIDR range; skipped`,
    ]);
    assert.equal(detector.observe(login(1, '203.0.113.5')).length, 1);
    // The same file again, and a new bad line: only the new one is reported.
    write(path, '203.0.113.0/24\nbogus\n198.51.100.0/24\n300.1.2.3\n');
    await eventually(() => detector.observe(login(2, '198.51.100.7')).length === 1);
    assert.deepEqual(warnings.slice(1), [
      `blocklist ${path} line 4: "300.1.2.3" is not an address or CIDR range; skipped`,
    ]);
  });

  it('is optional: no file configured, no detector; a missing file is reported once', async (t) => {
    const dir = tempDir(t);
    const layout = dataDirLayout(dir);
    const none = await createSuspiciousIpDetectors({
      config: DetectionConfigSchema.parse({}),
      layout,
      onWarning: () => assert.fail('no warning without a file'),
    });
    assert.deepEqual(none, []);
    const warnings: string[] = [];
    const [detector] = await createSuspiciousIpDetectors(
      {
        config: DetectionConfigSchema.parse({ blocklistFile: join(dir, 'nope.txt') }),
        layout,
        onWarning: (w) => warnings.push(w),
      },
      0,
    );
    assert.equal(detector?.observe(login(1, '203.0.113.5')).length, 0);
    for (let i = 0; i < 20; i++) await nextTurn();
    detector?.observe(login(2, '203.0.113.5'));
    for (let i = 0; i < 20; i++) await nextTurn();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /^blocklist .*nope\.txt: ENOENT/);
  });
});
