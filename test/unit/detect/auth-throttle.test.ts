import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetectionConfigSchema } from '../../../src/config/config-schema.js';
import type { SecurityEvent } from '../../../src/gateway/security-events.js';
import { ExemptRanges } from '../../../src/gateway/throttle/exempt-ranges.js';
import { LoginThrottle } from '../../../src/gateway/throttle/login-throttle.js';

/** Issue 7, item 2: the per-address login throttle, with an injected clock. */

const settings = (extra: Record<string, unknown> = {}) =>
  DetectionConfigSchema.parse({
    throttle: { failures: 3, windowSeconds: 60, blockSeconds: 10, ...extra },
  }).throttle;

const failed = (address: string, detail = 'proof mismatch'): SecurityEvent => ({
  event: 'auth.failed',
  address,
  user: 'alice',
  detail,
});

function throttleAt(extra: Record<string, unknown> = {}) {
  const clock = { now: 1_000_000 };
  const throttle = new LoginThrottle(settings(extra), () => clock.now);
  return { throttle, clock };
}

describe('LoginThrottle', () => {
  it('blocks an address after `failures` failed logins, with the message clients see', () => {
    const { throttle, clock } = throttleAt();
    throttle.record(failed('10.0.0.1'));
    throttle.record(failed('10.0.0.1', 'role unknown'));
    assert.equal(throttle.blocked('10.0.0.1'), undefined);
    clock.now += 1000;
    throttle.record(failed('10.0.0.1'));
    const blocked = throttle.blocked('10.0.0.1');
    assert.equal(
      blocked?.message,
      'too many failed logins from 10.0.0.1: temporarily blocked for 10 s',
    );
    assert.match(blocked?.detail ?? '', /^blocked until .*Z: 3 failed logins within 60 s$/);
    assert.equal(throttle.blocked('10.0.0.2'), undefined, 'only that address');
  });

  it('says how long is left, and releases the address after blockSeconds', () => {
    const { throttle, clock } = throttleAt();
    for (let i = 0; i < 3; i++) throttle.record(failed('10.0.0.1'));
    clock.now += 6500;
    assert.equal(throttle.blocked('10.0.0.1')?.remainingSeconds, 4);
    clock.now += 3500;
    assert.equal(throttle.blocked('10.0.0.1'), undefined);
    throttle.record(failed('10.0.0.1'));
    assert.equal(throttle.blocked('10.0.0.1'), undefined, 'a fresh count after the block');
  });

  it('counts only failures within the window', () => {
    const { throttle, clock } = throttleAt();
    throttle.record(failed('10.0.0.1'));
    throttle.record(failed('10.0.0.1'));
    clock.now += 60_000;
    throttle.record(failed('10.0.0.1'));
    assert.equal(throttle.blocked('10.0.0.1'), undefined);
  });

  it('ignores events that are not failed logins', () => {
    const { throttle } = throttleAt();
    for (const event of [
      'auth.succeeded',
      'auth.timeout',
      'access.denied',
      'firewall.denied',
    ] as const)
      for (let i = 0; i < 3; i++) throttle.record({ event, address: '10.0.0.1' });
    assert.equal(throttle.blocked('10.0.0.1'), undefined);
  });

  it('never blocks an exempt address, by count or by a response', () => {
    const { throttle } = throttleAt({ exemptRanges: ['10.1.0.0/16', '2001:db8::/32'] });
    for (let i = 0; i < 10; i++) throttle.record(failed('10.1.2.3'));
    assert.equal(throttle.blocked('10.1.2.3'), undefined);
    assert.equal(throttle.block('2001:db8::5', 60, 'alert'), false);
    assert.equal(throttle.blocked('2001:db8::5'), undefined);
    assert.equal(throttle.isExempt('10.1.255.255'), true);
    assert.equal(throttle.isExempt('10.2.0.0'), false);
  });

  it('blocks for a response action, keeping a longer block in place', () => {
    const { throttle, clock } = throttleAt();
    assert.equal(throttle.block('10.0.0.7', 100, 'alert brute-force.source (10.0.0.7)'), true);
    assert.equal(
      throttle.blocked('10.0.0.7')?.message,
      'connections from 10.0.0.7 are temporarily blocked for 100 s',
    );
    throttle.block('10.0.0.7', 5, 'shorter');
    assert.equal(throttle.blocked('10.0.0.7')?.remainingSeconds, 100);
    clock.now += 100_000;
    assert.equal(throttle.blocked('10.0.0.7'), undefined);
  });

  it('tracks a bounded number of addresses', () => {
    const clock = { now: 0 };
    const throttle = new LoginThrottle(settings(), () => clock.now, {
      maxAddresses: 2,
      maxBlocks: 2,
    });
    throttle.record(failed('10.0.0.1'));
    throttle.record(failed('10.0.0.1'));
    throttle.record(failed('10.0.0.2'));
    throttle.record(failed('10.0.0.3')); // forgets 10.0.0.1's two failures
    throttle.record(failed('10.0.0.1'));
    assert.equal(throttle.blocked('10.0.0.1'), undefined);
    for (const address of ['10.0.0.4', '10.0.0.5', '10.0.0.6']) throttle.block(address, 60, 'r');
    assert.equal(throttle.blocked('10.0.0.4'), undefined, 'the oldest block was dropped');
    assert.notEqual(throttle.blocked('10.0.0.6'), undefined);
  });
});

describe('ExemptRanges', () => {
  it('takes CIDRs and single addresses, and reports the rest', () => {
    const exempt = new ExemptRanges(['192.0.2.0/24', '::1', 'office', '10.0.0.0/33']);
    assert.deepEqual(exempt.invalid, ['office', '10.0.0.0/33']);
    assert.equal(exempt.has('192.0.2.200'), true);
    assert.equal(exempt.has('::ffff:192.0.2.1'), true, 'IPv4-mapped IPv6 is IPv4');
    assert.equal(exempt.has('::1'), true);
    assert.equal(exempt.has('192.0.3.1'), false);
    assert.equal(exempt.has('not an address'), false);
  });
});
