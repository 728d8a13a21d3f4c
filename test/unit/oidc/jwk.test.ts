import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importJwk, MIN_RSA_BITS } from '../../../src/auth/oidc/jwk.js';
import type { TokenErrorReason } from '../../../src/auth/oidc/token-error.js';
import { publicJwk, TestIssuer } from '../../helpers/oidc-issuer.js';

const issuer = TestIssuer.create();
const rsa = publicJwk(issuer.key('RS256'));
const ec = publicJwk(issuer.key('ES256'));
const ed = publicJwk(issuer.key('EdDSA'));

function refused(jwk: unknown, reason: TokenErrorReason, label?: string): void {
  assert.throws(() => importJwk(jwk), { name: 'TokenError', reason }, label);
}

describe('importJwk (RFC 7517 §4)', () => {
  it('binds each key type to one algorithm', () => {
    assert.equal(importJwk(rsa).alg, 'RS256');
    assert.equal(importJwk(ec).alg, 'ES256');
    assert.equal(importJwk(ed).alg, 'EdDSA');
    assert.equal(importJwk(ec).kid, 'ec-1');
    assert.equal(importJwk({ ...ec, kid: undefined }).kid, undefined);
  });

  it('imports a public key object, whatever else the JWK carries', () => {
    const key = importJwk({ ...rsa, x5t: 'thumb', x5c: ['MIIB'], issuer: 'https://idp.test' });
    assert.equal(key.key.type, 'public');
    assert.equal(key.key.asymmetricKeyDetails?.modulusLength, 2048);
  });

  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])
    it(`refuses a JWK with the private member "${member}"`, () =>
      refused({ ...rsa, [member]: 'AQAB' }, 'invalid-key'));

  it('refuses a real private JWK', () => {
    const privateJwk = issuer.key('EdDSA').privateKey.export({ format: 'jwk' });
    refused({ ...privateJwk, kid: 'ed-1' }, 'invalid-key');
  });

  it('refuses keys not meant for signatures (use, key_ops)', () => {
    refused({ ...ec, use: 'enc' }, 'invalid-key');
    refused({ ...ec, use: 'SIG' }, 'invalid-key');
    refused({ ...ec, key_ops: ['encrypt'] }, 'invalid-key');
    refused({ ...ec, key_ops: ['sign'] }, 'invalid-key');
    refused({ ...ec, key_ops: 'verify' }, 'invalid-key');
    assert.equal(importJwk({ ...ec, key_ops: ['verify'] }).alg, 'ES256');
    assert.equal(importJwk({ ...ec, use: undefined }).alg, 'ES256');
  });

  it('refuses a declared alg other than the one pgwarden binds', () => {
    refused({ ...rsa, alg: 'RS512' }, 'invalid-key');
    refused({ ...rsa, alg: 'PS256' }, 'invalid-key');
    refused({ ...ec, alg: 'RS256' }, 'invalid-key');
    refused({ ...ed, alg: 'Ed25519' }, 'invalid-key');
  });

  it('refuses unsupported key types and curves', () => {
    refused({ kty: 'oct', kid: 'hmac' }, 'invalid-key');
    refused({ ...ec, crv: 'P-384' }, 'invalid-key');
    refused({ ...ed, crv: 'X25519' }, 'invalid-key');
    refused({ ...ed, crv: 'Ed448' }, 'invalid-key');
    refused({ kid: 'no-kty' }, 'invalid-key');
  });

  it('refuses incomplete and invalid keys', () => {
    refused(null, 'invalid-key');
    refused([rsa], 'invalid-key');
    refused({ ...rsa, kid: 7 }, 'invalid-key');
    refused({ ...rsa, n: undefined }, 'invalid-key');
    refused({ ...ec, y: '' }, 'invalid-key');
    // A point off the curve: invalid-curve attacks start with one.
    const y = Buffer.from(String(ec.y), 'base64url');
    y[31] = (y[31] ?? 0) ^ 1;
    refused({ ...ec, y: y.toString('base64url') }, 'invalid-key');
  });

  it(`refuses RSA keys shorter than ${MIN_RSA_BITS} bits`, () => {
    const weak = TestIssuer.generateKey('RS256', 'weak', 1024);
    refused(publicJwk(weak), 'weak-key');
    assert.throws(() => importJwk(publicJwk(weak)), /1024-bit RSA key/);
  });
});
