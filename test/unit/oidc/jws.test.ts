import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { importJwk } from '../../../src/auth/oidc/jwk.js';
import { MAX_TOKEN_LENGTH, parseJws, verifyJws } from '../../../src/auth/oidc/jws.js';
import type { TokenErrorReason } from '../../../src/auth/oidc/token-error.js';
import { TestIssuer, tamperSignature } from '../../helpers/oidc-issuer.js';

const issuer = TestIssuer.create();

function rejects(fn: () => unknown, reason: TokenErrorReason, label?: string): void {
  assert.throws(fn, { name: 'TokenError', reason }, label);
}

const b64 = (text: string) => Buffer.from(text).toString('base64url');
/** A token with this header, a small payload and a non-empty (wrong) signature. */
const withHeader = (header: unknown) =>
  `${b64(JSON.stringify(header))}.${b64('{"sub":"alice"}')}.${b64('x'.repeat(64))}`;

/** RFC 8037 Appendix A.1, A.4, A.5: Ed25519 key, JWS over "Example of Ed25519 signing". */
const RFC8037 = {
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  signingInput: 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc',
  signature:
    'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
};

/** RFC 7515 Appendix A.3: ES256 over {"iss":"joe", "exp":1300819380, ...}. */
const RFC7515_A3 = {
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  token:
    'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q',
};

describe('JWS test vectors', () => {
  const edKey = importJwk({ kty: 'OKP', crv: 'Ed25519', x: RFC8037.x });
  const rfc8037 = `${RFC8037.signingInput}.${RFC8037.signature}`;

  it('RFC 8037 A.4: Ed25519 signing reproduces the signature', () => {
    const privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: RFC8037.d, x: RFC8037.x },
      format: 'jwk',
    });
    const signature = sign(null, Buffer.from(RFC8037.signingInput), privateKey);
    assert.equal(signature.toString('base64url'), RFC8037.signature);
  });

  it('RFC 8037 A.5: the EdDSA JWS verifies with the public key', () => {
    const jws = parseJws(rfc8037);
    assert.deepEqual(jws.header, { alg: 'EdDSA' });
    assert.equal(jws.payload.toString(), 'Example of Ed25519 signing');
    verifyJws(jws, edKey);
  });

  it('RFC 8037: a flipped signature bit fails', () => {
    rejects(() => verifyJws(parseJws(tamperSignature(rfc8037)), edKey), 'bad-signature');
  });

  it('RFC 7515 A.3: the ES256 JWS (R || S signature) verifies', () => {
    const key = importJwk({ kty: 'EC', crv: 'P-256', x: RFC7515_A3.x, y: RFC7515_A3.y });
    const jws = parseJws(RFC7515_A3.token);
    assert.equal(jws.signature.length, 64);
    verifyJws(jws, key);
    rejects(() => verifyJws(parseJws(tamperSignature(RFC7515_A3.token)), key), 'bad-signature');
  });

  it('ES256 with a DER-encoded signature is refused (RFC 7518 §3.4)', () => {
    const key = issuer.key('ES256');
    const input = `${b64('{"alg":"ES256"}')}.${b64('{}')}`;
    const der = sign('sha256', Buffer.from(input), key.privateKey);
    const jws = parseJws(`${input}.${der.toString('base64url')}`);
    rejects(
      () => verifyJws(jws, importJwk(key.publicKey.export({ format: 'jwk' }))),
      'bad-signature',
    );
  });
});

describe('parseJws: compact serialization (RFC 7515 §7.1)', () => {
  const good = issuer.token();
  const [h, p, s] = good.split('.') as [string, string, string];

  it('takes a token apart', () => {
    const jws = parseJws(good);
    assert.deepEqual(jws.header, { alg: 'ES256', kid: 'ec-1' });
    assert.equal(jws.signingInput.toString(), `${h}.${p}`);
    assert.equal(jws.signature.length, 64);
  });

  const cases: [string, string][] = [
    ['empty', ''],
    ['one segment', h],
    ['two segments', `${h}.${p}`],
    ['four segments', `${good}.${s}`],
    ['five segments (JWE)', `${h}.${p}.${s}.${s}.${s}`],
    ['empty signature', `${h}.${p}.`],
    ['empty header', `.${p}.${s}`],
    ['padding', `${h}.${p}.${s}==`],
    ['padding in the header', `${h}=.${p}.${s}`],
    ['whitespace', `${h}.${p} .${s}`],
    ['a newline', `${h}.${p}.${s}\n`],
    ['standard base64 characters', `${h}.${p}.${s.slice(0, -2)}+/`],
    ['impossible length', `${h}.${p}.${s}${'A'.repeat((5 - (s.length % 4)) % 4)}`],
    ['non-canonical trailing bits', `${h}.${p}.${s.slice(0, -1)}${s.endsWith('R') ? 'S' : 'R'}`],
    ['header not JSON', `${b64('{alg:ES256}')}.${p}.${s}`],
    ['header an array', `${b64('["ES256"]')}.${p}.${s}`],
    ['header null', `${b64('null')}.${p}.${s}`],
    ['header not UTF-8', `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${p}.${s}`],
    ['no alg', withHeader({ kid: 'ec-1' })],
    ['alg not a string', withHeader({ alg: ['ES256'] })],
    ['kid not a string', withHeader({ alg: 'ES256', kid: 1 })],
    ['typ not a string', withHeader({ alg: 'ES256', typ: {} })],
    ['too long', `${h}.${b64(JSON.stringify({ pad: 'x'.repeat(MAX_TOKEN_LENGTH) }))}.${s}`],
  ];
  for (const [name, token] of cases)
    it(`refuses ${name} as malformed`, () => rejects(() => parseJws(token), 'malformed'));

  it('accepts a token of exactly the maximum length, not one more', () => {
    for (let n = 0; n < 4; n++) {
      const prefix = `${h}.${b64(JSON.stringify({ pad: 'x'.repeat(n) }))}.`;
      const room = MAX_TOKEN_LENGTH - prefix.length;
      if (room % 4 === 1) continue; // no base64url string has that length
      const token = `${prefix}${'A'.repeat(room)}`;
      assert.equal(parseJws(token).signingInput.length, prefix.length - 1);
      rejects(() => parseJws(`${token}AAAA`), 'malformed');
      return;
    }
    assert.fail('no filler reached the limit');
  });
});

describe('parseJws: header policy', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE'])
    it(`refuses alg ${alg}`, () => {
      rejects(() => parseJws(issuer.token({}, { alg, kid: 'ec-1' })), 'alg-none');
      rejects(() => parseJws(withHeader({ alg })), 'alg-none', 'with a signature');
    });

  for (const alg of ['HS256', 'HS384', 'HS512'])
    it(`refuses ${alg} as a shared-secret algorithm`, () =>
      rejects(() => parseJws(issuer.token({}, { alg, secret: 'secret' })), 'alg-symmetric'));

  for (const alg of ['RS384', 'RS512', 'PS256', 'ES384', 'ES512', 'ES256K', 'Ed25519', 'rs256', ''])
    it(`refuses ${JSON.stringify(alg)} as not allowed`, () =>
      rejects(() => parseJws(withHeader({ alg })), 'alg-not-allowed'));

  it('refuses an algorithm outside the allowed list', () => {
    const token = issuer.token({}, { alg: 'RS256' });
    rejects(() => parseJws(token, ['ES256', 'EdDSA']), 'alg-not-allowed');
    assert.equal(parseJws(token, ['RS256']).header.alg, 'RS256');
  });

  for (const name of ['jwk', 'jku', 'x5c', 'x5u'])
    it(`refuses a "${name}" header: keys never come from the token`, () => {
      const embedded = name === 'jwk' ? issuer.jwks().keys[1] : 'https://attacker.test/k';
      rejects(() => parseJws(issuer.token({}, { header: { [name]: embedded } })), 'embedded-key');
    });

  it('refuses "crit" (RFC 7515 §4.1.11)', () => {
    rejects(
      () => parseJws(issuer.token({}, { header: { crit: ['b64'], b64: false } })),
      'crit-unsupported',
    );
    rejects(
      () => parseJws(issuer.token({}, { header: { crit: ['exp'], exp: 1 } })),
      'crit-unsupported',
    );
  });

  it('ignores other header members, keeps kid and typ', () => {
    const jws = parseJws(issuer.token({}, { header: { typ: 'at+jwt', x5t: 'abc' } }));
    assert.deepEqual(jws.header, { alg: 'ES256', kid: 'ec-1', typ: 'at+jwt' });
  });
});

describe('verifyJws: keys bound to one algorithm', () => {
  const jwkOf = (alg: 'RS256' | 'ES256' | 'EdDSA') =>
    importJwk(issuer.key(alg).publicKey.export({ format: 'jwk' }));

  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const)
    it(`${alg}: verifies, and refuses a flipped signature bit`, () => {
      const token = issuer.token({}, { alg });
      verifyJws(parseJws(token), jwkOf(alg));
      rejects(() => verifyJws(parseJws(tamperSignature(token)), jwkOf(alg)), 'bad-signature');
    });

  it('never checks a token with a key of another type', () => {
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const)
      for (const other of ['RS256', 'ES256', 'EdDSA'] as const)
        if (alg !== other)
          rejects(
            () => verifyJws(parseJws(issuer.token({}, { alg })), jwkOf(other)),
            'key-mismatch',
          );
  });

  it('checks the key object too, not only the label on it', () => {
    const rsa = jwkOf('RS256');
    const forged = { alg: 'ES256' as const, key: rsa.key };
    rejects(() => verifyJws(parseJws(issuer.token({}, { alg: 'ES256' })), forged), 'key-mismatch');
    const ecPublic = createPublicKey(issuer.key('ES256').privateKey);
    const mislabelled = { alg: 'RS256' as const, key: ecPublic };
    rejects(() => verifyJws(parseJws(issuer.token()), mislabelled), 'key-mismatch');
    const privateKey = { alg: 'ES256' as const, key: issuer.key('ES256').privateKey };
    rejects(() => verifyJws(parseJws(issuer.token()), privateKey), 'key-mismatch');
    verifyJws(parseJws(issuer.token()), { alg: 'ES256', key: ecPublic });
  });
});
