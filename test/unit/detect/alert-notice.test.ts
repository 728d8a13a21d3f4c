import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { raise } from '../../../src/detect/raised-alert.js';
import {
  alertNotice,
  noticeReason,
  type TrackedNotice,
} from '../../../src/detect/sinks/alert-notice.js';
import type { AlertOccurrence } from '../../../src/detect/sinks/alert-occurrence.js';

const FIVE_MINUTES = 300_000;

function occurrence(overrides: Partial<AlertOccurrence> = {}): AlertOccurrence {
  const alert = raise(
    {
      type: 'brute-force.source',
      key: '203.0.113.9',
      subject: { address: '203.0.113.9' },
      summary: '10 failed logins',
      evidence: [{ time: '2025-01-01T00:00:00.000Z', event: 'auth.failed' }],
    },
    new Date('2025-01-01T00:00:00.000Z'),
  );
  return {
    alert,
    id: 7,
    status: 'new',
    opened: false,
    count: 3,
    firstSeen: '2025-01-01T00:00:00.000Z',
    lastSeen: '2025-01-01T00:00:02.000Z',
    evidence: alert.evidence,
    ...overrides,
  };
}

const seen = (id: number | undefined, lastDelivered: number): TrackedNotice => ({
  id,
  lastDelivered,
  count: 1,
  firstSeen: '2025-01-01T00:00:00.000Z',
});

describe('noticeReason', () => {
  it('announces an alert when it is opened', () => {
    assert.equal(noticeReason(undefined, occurrence({ opened: true }), 0, FIVE_MINUTES), 'opened');
  });

  it('stays quiet for repeats within the interval, and speaks once it has passed', () => {
    const previous = seen(7, 1_000);
    assert.equal(
      noticeReason(previous, occurrence(), 1_000 + FIVE_MINUTES - 1, FIVE_MINUTES),
      undefined,
    );
    assert.equal(
      noticeReason(previous, occurrence(), 1_000 + FIVE_MINUTES, FIVE_MINUTES),
      'repeated',
    );
  });

  it('announces a new row after a resolve at once, however recent the last notice', () => {
    assert.equal(
      noticeReason(seen(7, 1_000), occurrence({ id: 8, opened: true }), 1_001, FIVE_MINUTES),
      'opened',
    );
  });

  it('treats the first sighting of an unstored alert as new, and its later storing as the same alert', () => {
    const unstored = occurrence({ id: undefined, status: undefined });
    assert.equal(noticeReason(undefined, unstored, 0, FIVE_MINUTES), 'opened');
    assert.equal(
      noticeReason(seen(undefined, 0), occurrence({ opened: true }), 10, FIVE_MINUTES),
      undefined,
    );
  });

  it('reports an alert already open before this gateway started as repeated', () => {
    assert.equal(noticeReason(undefined, occurrence(), 0, FIVE_MINUTES), 'repeated');
  });
});

describe('alertNotice', () => {
  it('carries the alert as stored, with its id, counts and times', () => {
    const notice = alertNotice(occurrence({ opened: true }), 'opened', 'd-1');
    assert.deepEqual(notice, {
      event: 'alert.opened',
      delivery: 'd-1',
      alert: {
        id: 7,
        type: 'brute-force.source',
        severity: 'high',
        tactic: 'Credential Access',
        technique: 'T1110.001 Password Guessing',
        description: 'Many failed logins from one source address in a short time.',
        summary: '10 failed logins',
        key: '203.0.113.9',
        status: 'new',
        subject: { address: '203.0.113.9' },
        evidence: [{ time: '2025-01-01T00:00:00.000Z', event: 'auth.failed' }],
        count: 3,
        firstSeen: '2025-01-01T00:00:00.000Z',
        lastSeen: '2025-01-01T00:00:02.000Z',
      },
    });
  });

  it('says null for an id and status the store does not know', () => {
    const notice = alertNotice(occurrence({ id: undefined, status: undefined }), 'repeated', 'd-2');
    assert.equal(notice.event, 'alert.repeated');
    assert.equal((notice.alert as { id: unknown }).id, null);
    assert.equal((notice.alert as { status: unknown }).status, null);
  });
});
