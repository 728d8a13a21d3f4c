import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  REPLAY_WINDOW_SECONDS,
  verifyWebhookSignature,
  webhookSignature,
} from '../../../src/detect/sinks/webhook-signature.js';

const secret = Buffer.from('pgwarden-test-key-0123456789abcdef0123');
const body = '{"a":1}';

describe('webhook signatures', () => {
  it('is HMAC-SHA256 over timestamp "." body, hex, with the v1= scheme', () => {
    // Computed independently: printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac KEY
    assert.equal(
      webhookSignature(secret, '1700000000', body),
      'v1=77cea7bc787ea0a1a322e0654cecd565dc1c89a0e917aa4f38bb04942de981ba',
    );
  });

  it('verifies a fresh, untouched delivery', () => {
    const signature = webhookSignature(secret, '1700000000', body);
    assert.deepEqual(
      verifyWebhookSignature(secret, { timestamp: '1700000000', signature }, body, 1700000010),
      { ok: true },
    );
  });

  it('refuses a changed body, another key, or a moved timestamp', () => {
    const signature = webhookSignature(secret, '1700000000', body);
    const check = (s: Buffer, timestamp: string, b: string) =>
      verifyWebhookSignature(s, { timestamp, signature }, b, 1700000000);
    assert.deepEqual(check(secret, '1700000000', '{"a":2}'), { ok: false, reason: 'mismatch' });
    assert.deepEqual(
      check(Buffer.from('another-key-0123456789abcdef0123456'), '1700000000', body),
      {
        ok: false,
        reason: 'mismatch',
      },
    );
    assert.deepEqual(check(secret, '1700000001', body), { ok: false, reason: 'mismatch' });
  });

  it('refuses a replay outside the window, either side', () => {
    const signature = webhookSignature(secret, '1700000000', body);
    const at = (now: number) =>
      verifyWebhookSignature(secret, { timestamp: '1700000000', signature }, body, now);
    assert.deepEqual(at(1700000000 + REPLAY_WINDOW_SECONDS), { ok: true });
    assert.deepEqual(at(1700000000 + REPLAY_WINDOW_SECONDS + 1), { ok: false, reason: 'stale' });
    assert.deepEqual(at(1700000000 - REPLAY_WINDOW_SECONDS - 1), { ok: false, reason: 'stale' });
  });

  it('refuses missing or malformed headers', () => {
    const signature = webhookSignature(secret, '1700000000', body);
    const now = 1700000000;
    for (const headers of [
      { timestamp: undefined, signature },
      { timestamp: '1700000000', signature: undefined },
      { timestamp: '17e8', signature },
      { timestamp: '-1700000000', signature },
    ]) {
      assert.deepEqual(verifyWebhookSignature(secret, headers, body, now), {
        ok: false,
        reason: 'malformed',
      });
    }
    assert.deepEqual(
      verifyWebhookSignature(secret, { timestamp: '1700000000', signature: 'v1=00' }, body, now),
      { ok: false, reason: 'mismatch' },
    );
  });

  it('accepts one matching signature among several (key change)', () => {
    const good = webhookSignature(secret, '1700000000', body);
    const other = webhookSignature(
      Buffer.from('old-key-0123456789abcdef0123456789'),
      '1700000000',
      body,
    );
    assert.deepEqual(
      verifyWebhookSignature(
        secret,
        { timestamp: '1700000000', signature: `${other}, ${good}` },
        body,
        1700000000,
      ),
      { ok: true },
    );
  });
});
