import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { scramSha256Verifier } from '../../../src/auth/scram-secret.js';
import { mockScramVerifier, parseScramVerifier } from '../../../src/gateway/auth/scram-verifier.js';

describe('parseScramVerifier', () => {
  it('parses what PostgreSQL stores', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const verifier = parseScramVerifier(scramSha256Verifier('pencil', salt, 4096));
    assert.ok(verifier);
    assert.equal(verifier.iterations, 4096);
    assert.deepEqual(verifier.salt, salt);
    assert.equal(verifier.storedKey.length, 32);
    assert.equal(verifier.serverKey.length, 32);
  });

  it('returns undefined for md5, plain and malformed secrets', () => {
    const good = scramSha256Verifier('pencil');
    const [, iterSalt = '', keys = ''] = good.split('$');
    const [storedKey = '', serverKey = ''] = keys.split(':');
    for (const text of [
      '',
      'md5a3556571e93b0d20722ba62be61e8c2d',
      'pencil',
      good.replace('SCRAM-SHA-256', 'SCRAM-SHA-1'),
      `SCRAM-SHA-256$0:${iterSalt.split(':')[1]}$${keys}`,
      `SCRAM-SHA-256$99999999999:${iterSalt.split(':')[1]}$${keys}`,
      `SCRAM-SHA-256$4096:not*base64$${keys}`,
      `SCRAM-SHA-256$${iterSalt}$${storedKey}`,
      `SCRAM-SHA-256$${iterSalt}$${storedKey}:${serverKey.slice(4)}`,
      `${good}x`,
      ` ${good}`,
    ]) {
      assert.equal(parseScramVerifier(text), undefined, text);
    }
  });
});

describe('mockScramVerifier', () => {
  const secret = randomBytes(32);

  it('is deterministic per user, with a 16-byte salt and 4096 iterations', () => {
    const a = mockScramVerifier('alice', secret);
    assert.deepEqual(mockScramVerifier('alice', secret), a);
    assert.equal(a.salt.length, 16);
    assert.equal(a.iterations, 4096);
    assert.equal(a.storedKey.length, 32);
    assert.equal(a.serverKey.length, 32);
  });

  it('differs between users and between installations', () => {
    const a = mockScramVerifier('alice', secret);
    const b = mockScramVerifier('bob', secret);
    assert.notDeepEqual(a.salt, b.salt);
    assert.notDeepEqual(a.storedKey, b.storedKey);
    assert.notDeepEqual(a.salt, mockScramVerifier('alice', randomBytes(32)).salt);
    assert.notDeepEqual(a.salt, a.storedKey.subarray(0, 16));
  });

  it('refuses a short secret', () => {
    assert.throws(() => mockScramVerifier('alice', Buffer.alloc(8)), RangeError);
  });
});
