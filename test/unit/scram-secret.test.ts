import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  generatePassword,
  isAcceptablePassword,
  scramSha256Verifier,
} from '../../src/auth/scram-secret.js';

/**
 * RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==,
 * 4096 iterations. The verifier must reproduce the RFC's client proof and
 * server signature for the RFC's AuthMessage.
 */
describe('SCRAM-SHA-256 verifier (RFC 7677 test vector)', () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const clientFirstBare = 'n=user,r=rOprNGfwEbeRWgbNEkqO';
  const serverFirst =
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
  const clientFinalWithoutProof = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
  const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  const serverSignature = '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

  const verifier = scramSha256Verifier('pencil', salt, 4096);
  const match = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier);

  it("has PostgreSQL's pg_authid format", () => {
    assert.ok(match, verifier);
    assert.equal(match[1], 'W22ZaJ0SNY7soEsUEjb6gQ==');
  });

  it('holds the ServerKey that signs the RFC exchange', () => {
    const serverKey = Buffer.from(match?.[3] ?? '', 'base64');
    assert.equal(
      createHmac('sha256', serverKey).update(authMessage).digest('base64'),
      serverSignature,
    );
  });

  it('holds the StoredKey that verifies the RFC client proof', () => {
    const storedKey = Buffer.from(match?.[2] ?? '', 'base64');
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] ?? 0) ^ (clientSignature[i] ?? 0);
    assert.deepEqual(createHash('sha256').update(clientKey).digest(), storedKey);
  });

  it('uses a fresh salt each time', () => {
    assert.notEqual(scramSha256Verifier('pencil'), scramSha256Verifier('pencil'));
  });
});

describe('admin passwords', () => {
  it('generates 192-bit printable passwords that pass the policy', () => {
    const password = generatePassword();
    assert.equal(password.length, 32);
    assert.ok(isAcceptablePassword(password));
    assert.notEqual(password, generatePassword());
  });

  it('refuses short, non-ASCII and space-padded passwords', () => {
    assert.equal(isAcceptablePassword('short'), false);
    assert.equal(isAcceptablePassword('long enough but ünïcode'), false);
    assert.equal(isAcceptablePassword(' padded-password '), false);
    assert.equal(isAcceptablePassword('twelve chars'), true);
  });
});
