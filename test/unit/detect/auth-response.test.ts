import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetectionConfigSchema } from '../../../src/config/config-schema.js';
import type { AlertCandidate } from '../../../src/detect/alert-candidate.js';
import { raise } from '../../../src/detect/raised-alert.js';
import {
  ResponseAlertSink,
  TERMINATE_MESSAGE,
} from '../../../src/detect/response/response-alert-sink.js';
import type { SecurityEvent } from '../../../src/gateway/security-events.js';
import { LoginThrottle } from '../../../src/gateway/throttle/login-throttle.js';

/** Issue 7, item 2: response actions per alert type. */

const config = DetectionConfigSchema.parse({
  throttle: { exemptRanges: ['10.9.0.0/16'] },
  responses: {
    'login.harmful-application': { terminateSession: true },
    'brute-force.source': { terminateSession: true, blockSourceSeconds: 120 },
    'brute-force.user': { blockSourceSeconds: 60 },
  },
});

function setup() {
  const calls: string[] = [];
  const events: SecurityEvent[] = [];
  const deferred: (() => void)[] = [];
  const throttle = new LoginThrottle(config.throttle);
  const sink = new ResponseAlertSink(
    config.responses,
    {
      terminate: (session, message) => {
        calls.push(`terminate ${session}: ${message}`);
        return session === 'live';
      },
      terminateFrom: (address, message) => {
        calls.push(`terminateFrom ${address}: ${message}`);
        return 2;
      },
    },
    throttle,
    (event) => events.push(event),
    (action) => deferred.push(action),
  );
  const runDeferred = () => {
    for (const action of deferred.splice(0)) action();
  };
  return { sink, calls, events, throttle, runDeferred };
}

const alert = (candidate: Partial<AlertCandidate> & Pick<AlertCandidate, 'type' | 'subject'>) =>
  raise({ key: 'k', summary: 's', evidence: [], ...candidate }, new Date(0));

describe('ResponseAlertSink', () => {
  it("ends the alert's session on the next turn and records what it did", () => {
    const { sink, calls, events, runDeferred } = setup();
    sink.deliver(
      alert({
        type: 'login.harmful-application',
        subject: { address: '10.0.0.1', user: 'alice', session: 'live' },
      }),
    );
    assert.deepEqual(calls, [], 'not while the event that raised it is handled');
    runDeferred();
    assert.deepEqual(calls, [`terminate live: ${TERMINATE_MESSAGE}`]);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event, 'alert.response');
    assert.equal(events[0]?.session, 'live');
    assert.equal(events[0]?.alert?.type, 'login.harmful-application');
    assert.equal(events[0]?.detail, 'ended 1 session live');
  });

  it('says so when the session is gone', () => {
    const { sink, events, runDeferred } = setup();
    sink.deliver(
      alert({
        type: 'login.harmful-application',
        subject: { address: '10.0.0.1', session: 'gone' },
      }),
    );
    runDeferred();
    assert.equal(events[0]?.detail, 'no live session gone to end');
  });

  it('ends every session from the address and blocks it', () => {
    const { sink, calls, events, throttle, runDeferred } = setup();
    sink.deliver(alert({ type: 'brute-force.source', subject: { address: '10.0.0.2' } }));
    assert.match(
      throttle.blocked('10.0.0.2')?.message ?? '',
      /blocked for 120 s/,
      'blocked at once',
    );
    runDeferred();
    assert.deepEqual(calls, [`terminateFrom 10.0.0.2: ${TERMINATE_MESSAGE}`]);
    assert.equal(events[0]?.detail, 'ended 2 sessions from 10.0.0.2; blocked 10.0.0.2 for 120 s');
  });

  it('never acts on an exempt address', () => {
    const { sink, calls, events, throttle, runDeferred } = setup();
    sink.deliver(alert({ type: 'brute-force.source', subject: { address: '10.9.1.1' } }));
    runDeferred();
    assert.deepEqual(calls, []);
    assert.equal(throttle.blocked('10.9.1.1'), undefined);
    assert.equal(events[0]?.detail, 'no action: 10.9.1.1 is in detection.throttle.exemptRanges');
  });

  it('does nothing for alert types without a response', () => {
    const { sink, calls, events, runDeferred } = setup();
    sink.deliver(alert({ type: 'brute-force.unknown-user', subject: { address: '10.0.0.3' } }));
    runDeferred();
    assert.deepEqual(calls, []);
    assert.deepEqual(events, []);
  });

  it('has no address to block for an alert about a role', () => {
    const { sink, events } = setup();
    sink.deliver(alert({ type: 'brute-force.user', subject: { user: 'alice' } }));
    assert.equal(events[0]?.detail, 'no source address to block');
    assert.equal(events[0]?.address, 'local');
  });
});
