import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { JwksSource } from '../../../src/auth/oidc/jwks.js';
import { TokenError, type TokenErrorReason } from '../../../src/auth/oidc/token-error.js';
import {
  type VerifyAccessTokenOptions,
  verifyAccessToken,
} from '../../../src/auth/oidc/verify-token.js';
import {
  type ClaimOverrides,
  type SignOptions,
  TestIssuer,
  tamperPayload,
  tamperSignature,
} from '../../helpers/oidc-issuer.js';

const NOW = 1_750_000_000; // seconds
const issuer = TestIssuer.create({
  issuer: 'https://idp.test/tenant/v2.0',
  audience: 'api://pgwarden',
  now: () => NOW * 1000,
});
const dir = mkdtempSync(join(tmpdir(), 'pgw-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const keys = JwksSource.fromFile(issuer.writeJwks(join(dir, 'jwks.json')));

const options: VerifyAccessTokenOptions = {
  issuer: issuer.issuer,
  audience: issuer.audience,
  keys,
  now: () => NOW * 1000,
};

function verify(token: string, extra: Partial<VerifyAccessTokenOptions> = {}) {
  return verifyAccessToken(token, { ...options, ...extra });
}

async function refused(
  token: string,
  reason: TokenErrorReason,
  extra: Partial<VerifyAccessTokenOptions> = {},
): Promise<TokenError> {
  try {
    await verify(token, extra);
  } catch (error) {
    assert.ok(error instanceof TokenError, String(error));
    assert.equal(error.reason, reason, error.message);
    return error;
  }
  return assert.fail(`accepted; expected ${reason}`);
}

const token = (claims: ClaimOverrides = {}, sign: SignOptions = {}) => issuer.token(claims, sign);

describe('verifyAccessToken: good tokens', () => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const)
    it(`accepts ${alg}`, async () => {
      const verified = await verify(token({ sub: 'alice', scp: 'db.login' }, { alg }));
      assert.equal(verified.claims.sub, 'alice');
      assert.equal(verified.claims.scp, 'db.login');
      assert.deepEqual(verified.header, { alg, kid: issuer.key(alg).kid });
      assert.equal(verified.expiresAt, (NOW + 600) * 1000);
    });

  it('accepts an audience array naming ours, and any of several configured audiences', async () => {
    await verify(token({ aud: ['https://other.test', issuer.audience] }));
    await verify(token({ aud: 'second' }), { audience: ['first', 'second'] });
    await verify(token({ aud: ['x', 'second'] }), { audience: ['first', 'second'] });
  });

  it('accepts fractional NumericDates and tokens without iat, nbf or sub', async () => {
    await verify(token({ exp: NOW + 0.5, iat: NOW - 0.25 }));
    await verify(token({ iat: undefined, sub: undefined }));
  });

  it('RFC 7515 A.3: the signature verifies, then the claims are judged', async () => {
    const rfcKeys = JwksSource.fromDocument({
      keys: [
        {
          kty: 'EC',
          crv: 'P-256',
          x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
          y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
        },
      ],
    });
    const rfc =
      'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q';
    const rfcOptions = { issuer: 'joe', keys: rfcKeys, now: () => 1_300_819_000_000 };
    await refused(rfc, 'missing-claim', rfcOptions); // no aud in the RFC example
    await refused(tamperSignature(rfc), 'bad-signature', rfcOptions);
  });
});

describe('verifyAccessToken: time (RFC 7519 §4.1.4-4.1.6) and skew', () => {
  it('refuses an expired token, a token not valid yet, a token issued in the future', async () => {
    await refused(token({ exp: NOW - 3600 }), 'expired');
    await refused(token({ nbf: NOW + 3600 }), 'not-yet-valid');
    await refused(token({ iat: NOW + 3600, exp: NOW + 7200 }), 'not-yet-valid');
  });

  it('allows 60 s of skew by default, and not one second more', async () => {
    await verify(token({ exp: NOW - 59 }));
    await refused(token({ exp: NOW - 60 }), 'expired');
    await verify(token({ nbf: NOW + 60 }));
    await refused(token({ nbf: NOW + 61 }), 'not-yet-valid');
    await verify(token({ iat: NOW + 60 }));
    await refused(token({ iat: NOW + 61 }), 'not-yet-valid');
  });

  it('follows clockSkewSeconds', async () => {
    await refused(token({ exp: NOW }), 'expired', { clockSkewSeconds: 0 });
    await verify(token({ exp: NOW + 1 }), { clockSkewSeconds: 0 });
    await refused(token({ nbf: NOW + 1 }), 'not-yet-valid', { clockSkewSeconds: 0 });
    await verify(token({ nbf: NOW }), { clockSkewSeconds: 0 });
    await verify(token({ exp: NOW - 299 }), { clockSkewSeconds: 300 });
  });

  it('requires a numeric exp', async () => {
    await refused(token({ exp: undefined }), 'missing-claim');
    await refused(token({ exp: String(NOW + 600) }), 'invalid-claim');
    await refused(token({ nbf: 'yesterday' }), 'invalid-claim');
    await refused(token({ iat: null }), 'invalid-claim');
    const infinite = issuer.sign(
      `{"iss":"${issuer.issuer}","aud":"${issuer.audience}","exp":1e999}`,
    );
    await refused(infinite, 'invalid-claim');
  });

  it('enforces maxLifetimeSeconds', async () => {
    await verify(token({ exp: NOW + 3600 }), { maxLifetimeSeconds: 3600 });
    await refused(token({ exp: NOW + 3601 }), 'lifetime-too-long', { maxLifetimeSeconds: 3600 });
    await refused(token({ iat: undefined, exp: NOW + 7200 }), 'lifetime-too-long', {
      maxLifetimeSeconds: 3600,
    });
  });
});

describe('verifyAccessToken: issuer, audience and other claims', () => {
  it('refuses another issuer, compared exactly', async () => {
    await refused(token({ iss: 'https://evil.test/tenant/v2.0' }), 'wrong-issuer');
    await refused(token({ iss: `${issuer.issuer}/` }), 'wrong-issuer');
    await refused(token({ iss: issuer.issuer.toUpperCase() }), 'wrong-issuer');
    await refused(token({ iss: undefined }), 'missing-claim');
    await refused(token({ iss: ['https://idp.test/tenant/v2.0'] }), 'invalid-claim');
  });

  it('refuses another audience, as a string or an array', async () => {
    await refused(token({ aud: 'api://other' }), 'wrong-audience');
    await refused(token({ aud: ['api://other', 'api://pgwarden/'] }), 'wrong-audience');
    await refused(token({ aud: [] }), 'wrong-audience');
    await refused(token(), 'wrong-audience', { audience: ['a', 'b'] });
    await refused(token({ aud: undefined }), 'missing-claim');
    await refused(token({ aud: [issuer.audience, 7] }), 'invalid-claim');
    await refused(token({ aud: { 0: issuer.audience } }), 'invalid-claim');
  });

  it('requires sub to be a string, and the required claims present', async () => {
    await refused(token({ sub: 42 }), 'invalid-claim');
    await refused(token(), 'missing-claim', { requiredClaims: ['oid'] });
    await refused(token({ oid: null }), 'missing-claim', { requiredClaims: ['oid'] });
    await verify(token({ oid: '00000000-0000' }), { requiredClaims: ['oid', 'sub'] });
  });

  it('refuses a claims set that is not a JSON object, even when signed', async () => {
    await refused(issuer.sign('["not", "claims"]'), 'malformed');
    await refused(issuer.sign('Example of Ed25519 signing', { alg: 'EdDSA' }), 'malformed');
  });
});

describe('verifyAccessToken: signatures and algorithms', () => {
  it('refuses alg none, even naming a real kid', async () => {
    await refused(token({}, { alg: 'none', kid: 'ec-1' }), 'alg-none');
    const withSignature = `${token({}, { alg: 'none', kid: 'rsa-1' })}${tamperSignature(token()).split('.')[2]}`;
    await refused(withSignature, 'alg-none');
  });

  it('refuses HS256 signed with the RSA public key as the HMAC secret (algorithm confusion)', async () => {
    const rsa = issuer.key('RS256');
    const secrets = [
      rsa.publicKey.export({ type: 'spki', format: 'pem' }),
      rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }),
      rsa.publicKey.export({ type: 'spki', format: 'der' }),
      JSON.stringify(issuer.jwks().keys[0]),
    ];
    let lookups = 0;
    const spy = {
      getKey(header: Parameters<typeof keys.getKey>[0]) {
        lookups++;
        return keys.getKey(header);
      },
    };
    for (const secret of secrets)
      for (const alg of ['HS256', 'HS384', 'HS512'])
        await refused(token({}, { alg, secret, kid: 'rsa-1' }), 'alg-symmetric', { keys: spy });
    assert.equal(lookups, 0, 'refused before any key was looked up');
  });

  it('refuses an RS256 token whose kid names an EC key, and other cross-type pairs', async () => {
    await refused(token({}, { alg: 'RS256', kid: 'ec-1' }), 'key-mismatch');
    await refused(token({}, { alg: 'ES256', kid: 'rsa-1' }), 'key-mismatch');
    await refused(token({}, { alg: 'EdDSA', kid: 'ec-1' }), 'key-mismatch');
    await refused(token({}, { alg: 'ES256', kid: 'ed-1' }), 'key-mismatch');
  });

  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const)
    it(`${alg}: refuses a tampered payload or signature, and a key that did not sign`, async () => {
      const good = token({}, { alg });
      await refused(tamperPayload(good, { sub: 'postgres' }), 'bad-signature');
      await refused(tamperSignature(good), 'bad-signature');
      const stranger = TestIssuer.generateKey(alg, issuer.key(alg).kid);
      await refused(token({}, { alg, key: stranger }), 'bad-signature');
    });

  it('checks the signature before the claims', async () => {
    const forged = tamperPayload(token(), { iss: 'https://evil.test', exp: NOW - 9999 });
    await refused(forged, 'bad-signature');
  });

  it('refuses unknown kids, embedded keys, crit and disallowed algorithms', async () => {
    await refused(token({}, { kid: 'unknown' }), 'unknown-kid');
    await refused(token({}, { header: { jku: 'https://evil.test/jwks' } }), 'embedded-key');
    await refused(token({}, { header: { jwk: issuer.jwks().keys[1] } }), 'embedded-key');
    await refused(token({}, { header: { crit: ['exp'], exp: NOW } }), 'crit-unsupported');
    await refused(token({}, { alg: 'RS256' }), 'alg-not-allowed', { algorithms: ['ES256'] });
    await refused('not-a-token', 'malformed');
  });

  it('refuses a token signed by an RSA key under 2048 bits', async () => {
    const local = TestIssuer.create({ now: () => NOW * 1000 });
    const weak = local.addKey('RS256', 'weak', 1024);
    const weakKeys = JwksSource.fromDocument(local.jwks());
    await refused(
      local.token({ aud: issuer.audience, iss: issuer.issuer }, { alg: 'RS256', key: weak }),
      'weak-key',
      {
        keys: weakKeys,
      },
    );
  });
});

describe('verifyAccessToken: error messages', () => {
  it('never contain the token, its payload or its signature', async () => {
    const tokens = [
      token({ exp: NOW - 3600 }),
      token({ iss: 'https://evil.test' }),
      token({ aud: 'api://other' }),
      token({ sub: 7 }),
      token({}, { kid: 'unknown' }),
      token({}, { alg: 'none' }),
      token({}, { alg: 'HS256', secret: 'x' }),
      token({}, { alg: 'RS256', kid: 'ec-1' }),
      tamperSignature(token()),
      tamperPayload(token(), { sub: 'admin' }),
      `${token()}=`,
      `${token()}.${'A'.repeat(20_000)}`,
      issuer.sign('{"iss": "unterminated'),
    ];
    for (const bad of tokens) {
      const error = await verify(bad).then(
        () => assert.fail('accepted'),
        (caught: unknown) => caught,
      );
      const logged = inspect(error, { depth: 5 });
      for (const part of [bad, ...bad.split('.').filter((p) => p.length > 8)])
        assert.ok(!logged.includes(part), `${logged}\n\nholds a part of the token`);
    }
  });

  it('quote values the token chose, on one line, short', async () => {
    const error = await refused(token({}, { kid: `evil\n${'k'.repeat(200)}` }), 'unknown-kid');
    assert.doesNotMatch(error.message, /\n/);
    assert.ok(error.message.length < 200, error.message);
    const issuerError = await refused(
      token({ iss: 'https://x.test/\r\nforged line' }),
      'wrong-issuer',
    );
    assert.doesNotMatch(issuerError.message, /[\r\n]/);
  });

  it('refuses bad options as configuration errors', async () => {
    const config = { name: 'PgwardenError', code: 'PGW_CONFIG_INVALID' };
    await assert.rejects(verify(token(), { issuer: '' }), config);
    await assert.rejects(verify(token(), { audience: [] }), config);
    await assert.rejects(verify(token(), { audience: '' }), config);
    await assert.rejects(verify(token(), { clockSkewSeconds: -1 }), config);
    await assert.rejects(verify(token(), { maxLifetimeSeconds: 0 }), config);
    await assert.rejects(verify(token(), { algorithms: [] }), config);
  });
});
