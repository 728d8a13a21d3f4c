import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetectionConfigSchema } from '../../../src/config/config-schema.js';
import type { AlertCandidate } from '../../../src/detect/alert-candidate.js';
import { DistributedBruteForce } from '../../../src/detect/auth/distributed-brute-force.js';
import { sourceBruteForce } from '../../../src/detect/auth/source-brute-force.js';
import { SuccessfulBruteForce } from '../../../src/detect/auth/successful-brute-force.js';
import { unknownUserBruteForce } from '../../../src/detect/auth/unknown-user-brute-force.js';
import { userBruteForce } from '../../../src/detect/auth/user-brute-force.js';
import type { Detector } from '../../../src/detect/detector.js';
import type { SecurityEvent } from '../../../src/gateway/security-events.js';

/** Issue 7: the brute-force detectors on security events, with injected time. */

const config = DetectionConfigSchema.parse({
  bruteForce: {
    sourceFailures: 3,
    userFailures: 4,
    unknownUserFailures: 3,
    distributedSources: 3,
    successAfterFailures: 2,
    windowSeconds: 60,
  },
}).bruteForce;

const failed = (address: string, user: string, detail = 'proof mismatch'): SecurityEvent => ({
  event: 'auth.failed',
  address,
  user,
  database: 'postgres',
  applicationName: 'app',
  method: 'SCRAM-SHA-256',
  detail,
});
const unknown = (address: string, user: string): SecurityEvent =>
  failed(address, user, 'role unknown');
const succeeded = (address: string, user: string, session = 's1'): SecurityEvent => ({
  event: 'auth.succeeded',
  address,
  user,
  session,
  database: 'postgres',
});

/** Feeds events one second apart from `start`; returns every candidate. */
function play(detector: Detector, events: readonly SecurityEvent[], start = 0): AlertCandidate[] {
  return events.flatMap((event, i) =>
    detector.observe({ kind: 'event', time: start + i * 1000, event }),
  );
}

describe('brute-force.source', () => {
  it('raises once at sourceFailures failures from one address, for any roles', () => {
    const alerts = play(sourceBruteForce(config), [
      failed('10.0.0.1', 'a'),
      unknown('10.0.0.1', 'ghost'),
      failed('10.0.0.2', 'a'),
      failed('10.0.0.1', 'b'),
      failed('10.0.0.1', 'c'),
      failed('10.0.0.1', 'd'),
    ]);
    assert.equal(alerts.length, 1);
    const [alert] = alerts;
    assert.equal(alert?.type, 'brute-force.source');
    assert.equal(alert?.key, '10.0.0.1');
    assert.deepEqual(alert?.subject, { address: '10.0.0.1' });
    assert.deepEqual(
      alert?.evidence.map((e) => [e.event, e.address, e.user, e.detail]),
      [
        ['auth.failed', '10.0.0.1', 'a', 'proof mismatch'],
        ['auth.failed', '10.0.0.1', 'ghost', 'role unknown'],
        ['auth.failed', '10.0.0.1', 'b', 'proof mismatch'],
      ],
    );
    assert.equal(alert?.evidence[0]?.time, new Date(0).toISOString());
    assert.equal(alert?.evidence[0]?.applicationName, 'app');
    assert.match(alert?.summary ?? '', /3 failed logins from 10\.0\.0\.1 within 60 s/);
  });

  it('does not count refusals that are not guesses, nor successes', () => {
    const refusals: SecurityEvent[] = [
      { event: 'auth.no-scram-secret', address: '10.0.0.1', user: 'a' },
      { event: 'access.denied', address: '10.0.0.1', user: 'a' },
      { event: 'auth.timeout', address: '10.0.0.1' },
      { event: 'tls.required', address: '10.0.0.1' },
      succeeded('10.0.0.1', 'a'),
      { event: 'session.limit', address: '10.0.0.1', user: 'a' },
    ];
    assert.deepEqual(play(sourceBruteForce(config), refusals), []);
  });

  it('counts the internal role and rejected tokens as failures', () => {
    const alerts = play(sourceBruteForce(config), [
      {
        event: 'auth.internal-role',
        address: '10.0.0.1',
        user: 'pgwarden_su',
        detail: 'role internal',
      },
      { event: 'auth.token-failed', address: '10.0.0.1', user: 'a', detail: 'expired: …' },
      failed('10.0.0.1', 'a'),
    ]);
    assert.equal(alerts.length, 1);
  });

  it('forgets failures older than the window', () => {
    const detector = sourceBruteForce(config);
    const at = (time: number, event: SecurityEvent) =>
      detector.observe({ kind: 'event', time, event });
    at(0, failed('10.0.0.1', 'a'));
    at(30_000, failed('10.0.0.1', 'a'));
    assert.deepEqual(at(60_000, failed('10.0.0.1', 'a')), [], 'the first left the window');
    assert.equal(at(61_000, failed('10.0.0.1', 'a')).length, 1);
  });
});

describe('brute-force.user', () => {
  it('raises for one existing role failing from several addresses', () => {
    const alerts = play(userBruteForce(config), [
      failed('10.0.0.1', 'alice'),
      failed('10.0.0.2', 'alice'),
      failed('10.0.0.3', 'bob'),
      failed('10.0.0.3', 'alice'),
      failed('10.0.0.4', 'alice'),
      failed('10.0.0.5', 'alice'),
    ]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.type, 'brute-force.user');
    assert.equal(alerts[0]?.key, 'alice');
    assert.deepEqual(alerts[0]?.subject, { user: 'alice' });
    assert.equal(alerts[0]?.evidence.length, 4);
  });

  it('ignores roles that do not exist', () => {
    const events = Array.from({ length: 6 }, () => unknown('10.0.0.1', 'ghost'));
    assert.deepEqual(play(userBruteForce(config), events), []);
  });
});

describe('brute-force.unknown-user', () => {
  it('raises for failures on roles that do not exist from one address', () => {
    const alerts = play(unknownUserBruteForce(config), [
      unknown('10.0.0.9', 'admin'),
      failed('10.0.0.9', 'alice'),
      unknown('10.0.0.8', 'root'),
      unknown('10.0.0.9', 'root'),
      unknown('10.0.0.9', 'oracle'),
    ]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.type, 'brute-force.unknown-user');
    assert.equal(alerts[0]?.key, '10.0.0.9');
    assert.deepEqual(
      alerts[0]?.evidence.map((e) => e.user),
      ['admin', 'root', 'oracle'],
    );
  });
});

describe('brute-force.distributed', () => {
  it('raises when one role fails from distributedSources addresses, once', () => {
    const alerts = play(new DistributedBruteForce(config), [
      failed('10.0.0.1', 'alice'),
      failed('10.0.0.1', 'alice'),
      failed('10.0.0.2', 'alice'),
      failed('10.0.0.3', 'bob'),
      failed('10.0.0.3', 'alice'),
      failed('10.0.0.4', 'alice'),
      failed('10.0.0.5', 'alice'),
    ]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.type, 'brute-force.distributed');
    assert.equal(alerts[0]?.key, 'alice');
    assert.deepEqual(
      alerts[0]?.evidence.map((e) => e.address),
      ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
      'one event per source',
    );
    assert.match(alerts[0]?.summary ?? '', /from 3 addresses/);
  });

  it('does not count one address many times', () => {
    const events = Array.from({ length: 10 }, () => failed('10.0.0.1', 'alice'));
    assert.deepEqual(play(new DistributedBruteForce(config), events), []);
  });

  it('repeats at most once a minute while the attack goes on', () => {
    const detector = new DistributedBruteForce(config);
    const alerts: AlertCandidate[] = [];
    for (let t = 0; t < 150; t++)
      alerts.push(
        ...detector.observe({
          kind: 'event',
          time: t * 1000,
          event: failed(`10.0.${t % 7}.1`, 'alice'),
        }),
      );
    assert.deepEqual(
      alerts.map((a) => (a.summary.startsWith('failed logins') ? 'crossed' : 'repeat')),
      ['crossed', 'repeat', 'repeat'],
    );
  });
});

describe('brute-force.success', () => {
  it('raises for a success after failures for the role, with the failures and the success as evidence', () => {
    const alerts = play(new SuccessfulBruteForce(config), [
      failed('10.0.0.1', 'alice'),
      failed('10.0.0.2', 'alice'),
      succeeded('10.0.0.2', 'alice', 'abc123'),
      succeeded('10.0.0.2', 'alice', 'abc124'),
    ]);
    assert.equal(alerts.length, 1, 'the failures are used up by the first alert');
    const alert = alerts[0];
    assert.equal(alert?.type, 'brute-force.success');
    assert.equal(alert?.key, 'alice');
    assert.deepEqual(alert?.subject, { user: 'alice', address: '10.0.0.2', session: 'abc123' });
    assert.deepEqual(
      alert?.evidence.map((e) => [e.event, e.address]),
      [
        ['auth.failed', '10.0.0.1'],
        ['auth.failed', '10.0.0.2'],
        ['auth.succeeded', '10.0.0.2'],
      ],
    );
  });

  it('raises for a success from an address that failed for other roles (spraying)', () => {
    const alerts = play(new SuccessfulBruteForce(config), [
      unknown('10.0.0.7', 'admin'),
      failed('10.0.0.7', 'bob'),
      succeeded('10.0.0.7', 'carol'),
    ]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.key, 'carol');
    assert.match(alerts[0]?.summary ?? '', /failed logins from the address/);
  });

  it("still raises when the role's owner logs in between an attacker's failures", () => {
    const alerts = play(new SuccessfulBruteForce(config), [
      failed('10.0.0.66', 'alice'),
      succeeded('10.0.0.1', 'alice'),
      failed('10.0.0.66', 'alice'),
      succeeded('10.0.0.66', 'alice'),
    ]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.subject.address, '10.0.0.66');
  });

  it('stays quiet for a typo or two before the right password', () => {
    const alerts = play(new SuccessfulBruteForce(config), [
      failed('10.0.0.1', 'alice'),
      succeeded('10.0.0.1', 'alice'),
      failed('10.0.0.1', 'alice'),
      succeeded('10.0.0.1', 'alice'),
    ]);
    assert.deepEqual(alerts, []);
  });
});
