import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { JwksSource } from '../../../src/auth/oidc/jwks.js';
import { parseKeySet } from '../../../src/auth/oidc/key-set.js';
import type { TokenErrorReason } from '../../../src/auth/oidc/token-error.js';
import { type JwksServer, publicJwk, TestIssuer } from '../../helpers/oidc-issuer.js';

const issuer = TestIssuer.create();
const dir = mkdtempSync(join(tmpdir(), 'pgw-jwks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function refused(promise: Promise<unknown>, reason: TokenErrorReason): Promise<void> {
  await assert.rejects(promise, { name: 'TokenError', reason });
}

async function waitFor(condition: () => boolean, label: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), label);
}

describe('parseKeySet (RFC 7517 §5)', () => {
  it('imports the usable keys and sets the others aside with their reason', () => {
    const weak = publicJwk(TestIssuer.generateKey('RS256', 'weak', 1024));
    const set = parseKeySet({
      keys: [
        ...issuer.jwks().keys,
        weak,
        { ...publicJwk(issuer.key('ES256')), kid: 'enc', use: 'enc' },
        { kty: 'EC', crv: 'P-521', kid: 'p521', x: 'AA', y: 'AA' },
        publicJwk(issuer.key('ES256')),
      ],
    });
    assert.deepEqual(
      set.keys.map((key) => key.kid),
      ['rsa-1', 'ec-1', 'ed-1'],
    );
    assert.deepEqual(
      set.rejected.map((entry) => [entry.kid, entry.reason]),
      [
        ['weak', 'weak-key'],
        ['enc', 'invalid-key'],
        ['p521', 'invalid-key'],
        ['ec-1', 'invalid-key'], // the duplicate
      ],
    );
  });

  it('refuses documents that are not a key set', () => {
    for (const document of [null, [], {}, { keys: {} }, 'keys'])
      assert.throws(() => parseKeySet(document), { reason: 'jwks-invalid' });
  });

  it('refuses a whole set that publishes private key material', () => {
    const leaked = { ...issuer.key('ES256').privateKey.export({ format: 'jwk' }), kid: 'leak' };
    assert.throws(() => parseKeySet({ keys: [...issuer.jwks().keys, leaked] }), {
      reason: 'jwks-invalid',
      message: /private key material/,
    });
    assert.throws(() => JwksSource.fromDocument({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), {
      reason: 'jwks-invalid',
    });
  });
});

describe('JwksSource: key selection', () => {
  const second = TestIssuer.generateKey('ES256', 'ec-2');
  const weak = TestIssuer.generateKey('RS256', 'weak', 1024);
  const source = JwksSource.fromDocument({
    keys: [...issuer.jwks().keys, publicJwk(second), publicJwk(weak)],
  });

  it('finds a key by kid and algorithm', async () => {
    assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-2' })).kid, 'ec-2');
    assert.equal((await source.getKey({ alg: 'EdDSA', kid: 'ed-1' })).kid, 'ed-1');
  });

  it('refuses a kid whose key is of another type (algorithm confusion)', async () => {
    await refused(source.getKey({ alg: 'RS256', kid: 'ec-1' }), 'key-mismatch');
    await refused(source.getKey({ alg: 'ES256', kid: 'rsa-1' }), 'key-mismatch');
  });

  it('gives the reason a named key was set aside', async () => {
    await refused(source.getKey({ alg: 'RS256', kid: 'weak' }), 'weak-key');
  });

  it('refuses an unknown kid', async () => {
    await refused(source.getKey({ alg: 'ES256', kid: 'nope' }), 'unknown-kid');
  });

  it('takes a token without kid only when one key fits its algorithm', async () => {
    assert.equal((await source.getKey({ alg: 'EdDSA' })).kid, 'ed-1');
    assert.equal((await source.getKey({ alg: 'RS256' })).kid, 'rsa-1');
    await refused(source.getKey({ alg: 'ES256' }), 'kid-required');
    const empty = JwksSource.fromDocument({ keys: [] });
    await refused(empty.getKey({ alg: 'ES256' }), 'kid-required');
  });

  it('does not match a kid-less key to a token that names a kid', async () => {
    const kidless = JwksSource.fromDocument({ keys: [{ ...publicJwk(second), kid: undefined }] });
    assert.equal((await kidless.getKey({ alg: 'ES256' })).kid, undefined);
    await refused(kidless.getKey({ alg: 'ES256', kid: 'ec-2' }), 'unknown-kid');
  });
});

describe('JwksSource.fromFile', () => {
  it('reads lazily, and re-reads when the file changes (offline rotation)', async () => {
    const path = join(dir, 'rotation.json');
    const local = TestIssuer.create();
    local.writeJwks(path);
    const source = JwksSource.fromFile(path);
    assert.equal(source.status.loadedAt, undefined);
    await source.getKey({ alg: 'ES256', kid: 'ec-1' });
    await refused(source.getKey({ alg: 'ES256', kid: 'ec-2' }), 'unknown-kid');

    local.addKey('ES256', 'ec-2');
    local.removeKey('ec-1');
    local.writeJwks(path);
    const later = new Date(Date.now() + 10_000);
    utimesSync(path, later, later);
    assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-2' })).kid, 'ec-2');
    await refused(source.getKey({ alg: 'ES256', kid: 'ec-1' }), 'unknown-kid');
  });

  it('keeps the last good set when the file turns bad, and says why', async () => {
    const path = issuer.writeJwks(join(dir, 'bad.json'));
    const source = JwksSource.fromFile(path);
    await source.load();
    writeFileSync(path, '{"keys": [');
    assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-1' })).kid, 'ec-1');
    assert.match(source.status.lastError ?? '', /is not JSON/);
    rmSync(path);
    assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-1' })).kid, 'ec-1');
    assert.match(source.status.lastError ?? '', /cannot be read/);
  });

  it('is unavailable when the file never could be read', async () => {
    const source = JwksSource.fromFile(join(dir, 'missing.json'));
    await refused(source.getKey({ alg: 'ES256', kid: 'ec-1' }), 'jwks-unavailable');
    await refused(source.load(), 'jwks-unavailable');
  });

  it('refuses files over maxBytes', async () => {
    const path = issuer.writeJwks(join(dir, 'large.json'));
    await refused(JwksSource.fromFile(path, { maxBytes: 100 }).load(), 'jwks-invalid');
  });
});

describe('JwksSource.fromUrl', () => {
  let server: JwksServer;
  let clock: number;
  const now = () => clock;
  const open = (options: Parameters<typeof JwksSource.fromUrl>[1] = {}) =>
    JwksSource.fromUrl(server.url, { allowInsecureLoopbackHttp: true, now, ...options });

  beforeEach(async () => {
    clock = 1_700_000_000_000;
    server = await issuer.serve();
  });
  afterEach(() => server.close());

  it('refuses URLs that are not https (outside loopback tests)', () => {
    const config = { name: 'PgwardenError', code: 'PGW_CONFIG_INVALID' };
    assert.throws(() => JwksSource.fromUrl(server.url), config);
    assert.throws(
      () => JwksSource.fromUrl('http://idp.test/jwks', { allowInsecureLoopbackHttp: true }),
      config,
    );
    assert.throws(
      () => JwksSource.fromUrl('ftp://127.0.0.1/jwks', { allowInsecureLoopbackHttp: true }),
      config,
    );
    assert.throws(() => JwksSource.fromUrl('https://user:pw@idp.test/jwks'), config);
    assert.throws(() => JwksSource.fromUrl('not a url'), config);
    JwksSource.fromUrl('https://login.example.com/common/discovery/v2.0/keys');
    JwksSource.fromUrl('http://[::1]:8080/jwks', { allowInsecureLoopbackHttp: true });
    JwksSource.fromUrl('http://localhost/jwks', { allowInsecureLoopbackHttp: true });
  });

  it('fetches on first use, once for concurrent callers', async () => {
    const source = open();
    assert.equal(server.requests, 0);
    const keys = await Promise.all(
      ['ec-1', 'rsa-1', 'ed-1', 'ec-1'].map((kid, i) =>
        source.getKey({ alg: (['ES256', 'RS256', 'EdDSA', 'ES256'] as const)[i] ?? 'ES256', kid }),
      ),
    );
    assert.deepEqual(
      keys.map((key) => key.kid),
      ['ec-1', 'rsa-1', 'ed-1', 'ec-1'],
    );
    assert.equal(server.requests, 1);
  });

  it('an unknown kid triggers one refresh, then fails; another within the interval fetches nothing', async () => {
    const source = open();
    await source.load();
    assert.equal(server.requests, 1);
    clock += 60_000;
    await refused(source.getKey({ alg: 'ES256', kid: 'random-1' }), 'unknown-kid');
    assert.equal(server.requests, 2);
    clock += 59_999;
    await refused(source.getKey({ alg: 'ES256', kid: 'random-2' }), 'unknown-kid');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        refused(source.getKey({ alg: 'ES256', kid: `spray-${i}` }), 'unknown-kid'),
      ),
    );
    assert.equal(server.requests, 2);
    clock += 1;
    await refused(source.getKey({ alg: 'ES256', kid: 'random-3' }), 'unknown-kid');
    assert.equal(server.requests, 3);
  });

  it('accepts a rotated-in key after a refresh', async () => {
    const local = TestIssuer.create();
    const localServer = await local.serve();
    try {
      const source = JwksSource.fromUrl(localServer.url, { allowInsecureLoopbackHttp: true, now });
      await source.getKey({ alg: 'EdDSA', kid: 'ed-1' });
      local.addKey('EdDSA', 'ed-2');
      await refused(source.getKey({ alg: 'EdDSA', kid: 'ed-2' }), 'unknown-kid'); // rate limit
      clock += 60_000;
      assert.equal((await source.getKey({ alg: 'EdDSA', kid: 'ed-2' })).kid, 'ed-2');
      assert.equal(localServer.requests, 2);
      assert.deepEqual(source.status.kids, ['rsa-1', 'ec-1', 'ed-1', 'ed-2']);
    } finally {
      await localServer.close();
    }
  });

  it('refreshes in the background once the set is older than maxAgeMs', async () => {
    const local = TestIssuer.create();
    const localServer = await local.serve();
    try {
      const source = JwksSource.fromUrl(localServer.url, { allowInsecureLoopbackHttp: true, now });
      await source.load();
      clock += 3_600_000 - 1;
      await source.getKey({ alg: 'ES256', kid: 'ec-1' });
      assert.equal(localServer.requests, 1);
      local.removeKey('ec-1');
      clock += 1;
      // Served from the cache while the refresh runs.
      assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-1' })).kid, 'ec-1');
      await waitFor(
        () => !source.status.kids.includes('ec-1'),
        'the refreshed set replaced the old',
      );
      assert.equal(localServer.requests, 2);
      await refused(source.getKey({ alg: 'ES256', kid: 'ec-1' }), 'unknown-kid');
      assert.equal(localServer.requests, 2, 'the unknown kid is within the refresh interval');
    } finally {
      await localServer.close();
    }
  });

  it('keeps serving the last good set when a refresh fails', async () => {
    const source = open();
    await source.load();
    server.status = 500;
    clock += 3_600_000;
    assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-1' })).kid, 'ec-1');
    await waitFor(() => source.status.lastError !== undefined, 'the failed refresh is recorded');
    assert.match(source.status.lastError ?? '', /HTTP 500/);
    assert.equal((await source.getKey({ alg: 'RS256', kid: 'rsa-1' })).kid, 'rsa-1');
    server.body = '{"keys":[{"kty":"EC","d":"secret"}]}';
    server.status = 200;
    clock += 60_000;
    await refused(source.load(), 'jwks-invalid');
    assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-1' })).kid, 'ec-1');
  });

  it('is unavailable until a first load succeeds, and retries no faster than the interval', async () => {
    server.status = 503;
    const source = open();
    await refused(source.getKey({ alg: 'ES256', kid: 'ec-1' }), 'jwks-unavailable');
    await refused(source.getKey({ alg: 'ES256', kid: 'ec-1' }), 'jwks-unavailable');
    assert.equal(server.requests, 1);
    server.status = 200;
    clock += 60_000;
    assert.equal((await source.getKey({ alg: 'ES256', kid: 'ec-1' })).kid, 'ec-1');
    assert.equal(server.requests, 2);
    assert.equal(source.status.lastError, undefined);
    await source.load();
  });

  it('times out slow servers', async () => {
    server.delayMs = 2_000;
    const source = open({ timeoutMs: 100 });
    await assert.rejects(source.load(), {
      reason: 'jwks-unavailable',
      message: /timed out after 100 ms/,
    });
  });

  it('refuses bodies over maxBytes, with or without content-length', async () => {
    await refused(open({ maxBytes: 200 }).load(), 'jwks-invalid');
    server.chunked = true;
    await assert.rejects(open({ maxBytes: 200 }).load(), {
      reason: 'jwks-invalid',
      message: /more than 200 bytes/,
    });
    await open().load();
  });

  it('follows no redirect, not even to a good key set', async () => {
    const other = await issuer.serve();
    try {
      server.status = 302;
      server.headers = { location: other.url };
      await assert.rejects(open().load(), { reason: 'jwks-unavailable', message: /redirect/ });
      assert.equal(other.requests, 0);
    } finally {
      await other.close();
    }
  });

  it('accepts only status 200', async () => {
    server.status = 201;
    await assert.rejects(open().load(), { reason: 'jwks-unavailable', message: /HTTP 201/ });
  });

  it('refuses bodies that are not a key set', async () => {
    server.body = '<html>';
    await refused(open().load(), 'jwks-invalid');
    server.body = '{"keys": null}';
    await refused(open().load(), 'jwks-invalid');
  });
});
