import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TestIssuer, tamperSignature } from '../helpers/oidc-issuer.js';
import { cleanEnv } from '../helpers/pgwarden-cli.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 5, items 2, 4, 6 and 8: an OIDC access token as the password, through
 * the gateway, with real clients; the issuer is local (a JWKS file and
 * tokens signed by test keys).
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';
const PSQL = ['/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql'].find((f) => existsSync(f));

const ALICE_ID = '0b6f2a4c-1111-4c3e-9a57-6c1f0d2e3a41';
const BOB_ID = '7e1d5c3b-2222-4b8a-8f61-2d9e4c7b1a52';

describe(`token logins through the gateway (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const issuer = TestIssuer.create({
    issuer: 'https://idp.test/tenant',
    audience: 'api://pgwarden',
  });
  const principals = new Map<string, number>();
  // A Kubernetes cluster as a second provider: service-account tokens for workloads.
  const cluster = TestIssuer.create({
    issuer: 'https://kubernetes.default.svc.cluster.local',
    audience: 'pgwarden-db',
  });
  const BILLING_SA = 'system:serviceaccount:prod:billing';

  const cli = async (...args: string[]): Promise<string> => {
    const result = await server.cli(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  };

  before(async () => {
    // The suite plays dozens of refused tokens from loopback on purpose: the
    // login throttle (docs/detection.md) would otherwise block the address.
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(
      server.layout.configFile,
      'detection:\n  throttle:\n    exemptRanges: [127.0.0.0/8, "::1/128"]\n',
    );
    await server.up();
    const admin = await server.superuser();
    try {
      await admin.query('CREATE ROLE app_user LOGIN');
      await admin.query("CREATE ROLE pw_user LOGIN PASSWORD 'pw-user-Secret-1'");
      await admin.query('CREATE ROLE analysts NOLOGIN');
      await admin.query('CREATE ROLE carol LOGIN IN ROLE analysts');
      await admin.query('CREATE ROLE reporting LOGIN');
    } finally {
      await admin.end();
    }
    const jwks = issuer.writeJwks(join(server.dataDir, '..', 'jwks.json'));
    await cli(
      'identity',
      'provider',
      'add',
      '--name',
      'test-idp',
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
      '--jwks-file',
      jwks,
    );
    for (const [subject, role, type, loginAs] of [
      [ALICE_ID, 'app_user', 'user', 'role'],
      [BOB_ID, 'pw_user', 'user', 'role'],
      ['grp-analysts', 'analysts', 'group', 'member'],
      ['grp-reporting', 'reporting', 'group', 'role'],
    ] as const) {
      const out = await cli(
        'identity',
        'principal',
        'create',
        '--provider',
        'test-idp',
        '--role',
        role,
        '--subject',
        subject,
        '--type',
        type,
        '--login-as',
        loginAs,
      );
      principals.set(subject, Number(/principal (\d+) created/.exec(out)?.[1]));
    }
    const k8sJwks = cluster.writeJwks(join(server.dataDir, '..', 'k8s-jwks.json'));
    await cli(
      'identity',
      'provider',
      'add',
      '--name',
      'k8s',
      '--issuer',
      cluster.issuer,
      '--audience',
      cluster.audience,
      '--jwks-file',
      k8sJwks,
      '--required-claims',
      'kubernetes.io',
    );
    await cli(
      'identity',
      'principal',
      'create',
      '--provider',
      'k8s',
      '--role',
      'reporting',
      '--subject',
      BILLING_SA,
      '--type',
      'service',
    );
    await cli(
      ...['identity', 'principal', 'create', '--provider', 'test-idp', '--role', 'reporting'],
      ...['--subject', 'c3d4e5f6-app-billing', '--type', 'service'],
    );
    await cli('identity', 'mode', 'both');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // gateways apply it within a second
  });

  const connect = async (user: string, password: string, ssl = true): Promise<pg.Client> => {
    const config = server.gatewayClientConfig(user, password);
    const client = new pg.Client(ssl ? config : { ...config, ssl: false });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const whoAmI = async (user: string, password: string): Promise<string> => {
    const client = await connect(user, password);
    try {
      return (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u ?? '';
    } finally {
      await client.end();
    }
  };
  const refused = async (user: string, password: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(whoAmI(user, password), pattern);
  };
  /** The gateway's security events (the JSON lines file), newest last. */
  const events = (): Array<Record<string, unknown>> =>
    readFileSync(server.layout.gatewayEvents, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  /** The detail of the next token failure after the first `seen` ones, once it is written. */
  const failureAfter = async (seen: number): Promise<string> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const failures = events().filter((e) => e.event === 'auth.token-failed');
      if (failures.length > seen || Date.now() > deadline) return String(failures[seen]?.detail);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const failures = (): number => events().filter((e) => e.event === 'auth.token-failed').length;

  it('logs in with a good token, with node-postgres and with psql', async () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
      assert.equal(await whoAmI('app_user', issuer.token({ sub: ALICE_ID }, { alg })), 'app_user');
    }
    if (PSQL !== undefined) {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          PSQL,
          [server.conninfo('app_user'), '-Atc', 'SELECT current_user'],
          { env: cleanEnv({ PGPASSWORD: issuer.token({ sub: ALICE_ID }) }) },
          (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
        ),
      );
      assert.equal(out.trim(), 'app_user');
    }
    const success = events().findLast((e) => e.event === 'auth.succeeded' && e.user === 'app_user');
    assert.equal(success?.method, 'oidc');
    assert.match(String(success?.principal), new RegExp(`user ${ALICE_ID} of test-idp`));
  });

  it('refuses bad tokens with one vague message, and records why', async () => {
    const vague = /token authentication failed for user "app_user"/;
    const cases: Array<[string, string, RegExp]> = [
      [
        'expired',
        issuer.token({ sub: ALICE_ID, exp: Math.floor(Date.now() / 1000) - 3600 }),
        /^expired/,
      ],
      ['wrong audience', issuer.token({ sub: ALICE_ID, aud: 'api://other' }), /^wrong-audience/],
      ['wrong issuer', issuer.token({ sub: ALICE_ID, iss: 'https://evil.test' }), /^wrong-issuer/],
      ['unknown kid', issuer.token({ sub: ALICE_ID }, { kid: 'rotated-away' }), /^unknown-kid/],
      ['alg none', issuer.token({ sub: ALICE_ID }, { alg: 'none' }), /^alg-none/],
      ['tampered', tamperSignature(issuer.token({ sub: ALICE_ID })), /^bad-signature/],
      ['another subject', issuer.token({ sub: BOB_ID }), /^no-principal/],
      [
        'wrong key',
        issuer.token({ sub: ALICE_ID }, { key: TestIssuer.generateKey('ES256', 'ec-1') }),
        /^bad-signature/,
      ],
    ];
    for (const [name, token, reason] of cases) {
      const seen = failures();
      await refused('app_user', token, vague);
      assert.match(await failureAfter(seen), reason, name);
    }
    const log = readFileSync(server.layout.gatewayEvents, 'utf8');
    for (const [, token] of cases)
      assert.ok(!log.includes(token.split('.')[2] || '\0'), 'no signature in the log');
  });

  it('workload identities: a Kubernetes service-account token and a client-credentials token', async () => {
    const saToken = cluster.token(
      {
        sub: BILLING_SA,
        'kubernetes.io': { namespace: 'prod', serviceaccount: { name: 'billing' } },
      },
      { alg: 'RS256' },
    );
    assert.equal(await whoAmI('reporting', saToken), 'reporting');
    // This provider requires the kubernetes.io claim (--required-claims).
    const seen = failures();
    await refused(
      'reporting',
      cluster.token({ sub: BILLING_SA }, { alg: 'RS256' }),
      /token authentication failed/,
    );
    assert.match(await failureAfter(seen), /^missing-claim/);
    // The same subject from the other issuer maps to nothing.
    await refused('reporting', issuer.token({ sub: BILLING_SA }), /token authentication failed/);
    // A client-credentials token of the corporate provider: the application's id in sub.
    const appToken = issuer.token({ sub: 'c3d4e5f6-app-billing', azp: 'c3d4e5f6-app-billing' });
    assert.equal(await whoAmI('reporting', appToken), 'reporting');
  });

  it('takes a large token (many groups: over the 10000-byte startup cap)', async () => {
    const groups = Array.from(
      { length: 400 },
      (_, i) => `group-${String(i).padStart(4, '0')}-of-a-big-tenant`,
    );
    const token = issuer.token({ sub: 'someone', groups: [...groups, 'grp-reporting'] });
    assert.ok(token.length > 10_000, `token of ${token.length} bytes`);
    assert.equal(await whoAmI('reporting', token), 'reporting');
  });

  it('fetches keys from a jwks_uri once, and serves later logins from the cache', async () => {
    const served = TestIssuer.create({
      issuer: 'https://idp.test/served',
      audience: 'api://pgwarden',
    });
    const jwks = await served.serve();
    try {
      await cli(
        ...['identity', 'provider', 'add', '--name', 'served', '--issuer', served.issuer],
        ...['--audience', served.audience, '--jwks-uri', jwks.url],
      );
      await cli(
        ...['identity', 'principal', 'create', '--provider', 'served', '--role', 'reporting'],
        ...['--subject', 'served-app', '--type', 'service'],
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
        assert.equal(
          await whoAmI('reporting', served.token({ sub: 'served-app' }, { alg })),
          'reporting',
        );
      }
      assert.equal(jwks.requests, 1, 'one fetch for three logins');
      // An unknown kid may refresh, but not more than once a minute, however many tokens name one.
      for (let i = 0; i < 5; i++) {
        await refused(
          'reporting',
          served.token({ sub: 'served-app' }, { kid: `spray-${i}` }),
          /token authentication failed/,
        );
      }
      assert.ok(jwks.requests <= 2, `${jwks.requests} fetches for five unknown kids`);
    } finally {
      await jwks.close();
    }
  });

  it('maps groups: to the group role, or members as themselves', async () => {
    assert.equal(
      await whoAmI('reporting', issuer.token({ sub: 'someone', groups: ['grp-reporting'] })),
      'reporting',
    );
    assert.equal(
      await whoAmI('carol', issuer.token({ sub: 'carol-id', groups: ['x', 'grp-analysts'] })),
      'carol',
    );
    // A member login needs membership of the group's role: reporting is not in analysts.
    await refused(
      'reporting',
      issuer.token({ sub: 'someone', groups: ['grp-analysts'] }),
      /token authentication failed/,
    );
  });

  it('mode both: a mapped role may still use its password; mode token refuses passwords', async () => {
    assert.equal(await whoAmI('pw_user', 'pw-user-Secret-1'), 'pw_user');
    await refused('pw_user', 'wrong-password', /password authentication failed for user "pw_user"/);
    await cli('identity', 'mode', 'token');
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // gateways apply it within a second
      await refused(
        'pw_user',
        'pw-user-Secret-1',
        /password logins are disabled: sign in with an access token/,
      );
      await refused('pgwarden', server.adminPassword(), /password logins are disabled/);
      assert.equal(await whoAmI('pw_user', issuer.token({ sub: BOB_ID })), 'pw_user');
    } finally {
      await cli('identity', 'mode', 'both');
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  });

  it('never asks for a token on a plaintext connection', async () => {
    await cli('parameter', 'set', 'require_secure_transport', 'off');
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await assert.rejects(
        connect('app_user', issuer.token({ sub: ALICE_ID }), false),
        /token authentication requires an encrypted connection/,
      );
    } finally {
      await cli('parameter', 'set', 'require_secure_transport', 'on');
    }
  });

  it('ends a live session when its token expires', async () => {
    const client = await connect(
      'app_user',
      issuer.token({ sub: ALICE_ID, exp: Math.floor(Date.now() / 1000) + 3 }),
    );
    const ended = new Promise<Error>((resolve) => client.once('error', resolve));
    assert.equal((await client.query('SELECT 1 AS one')).rows[0]?.one, 1);
    const error = await Promise.race([
      ended,
      new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('not ended')), 15_000)),
    ]);
    assert.match(error.message, /access token expired at .*; reconnect with a new token/);
    await client.end().catch(() => undefined);
  });

  it('refuses a deleted principal at once, and ends its live sessions', async () => {
    const token = issuer.token({ sub: ALICE_ID });
    const client = await connect('app_user', token);
    const ended = new Promise<Error>((resolve) => client.once('error', resolve));
    await cli('identity', 'principal', 'delete', '--id', String(principals.get(ALICE_ID)));
    const error = await Promise.race([
      ended,
      new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('not ended')), 10_000)),
    ]);
    assert.match(error.message, /identity principal of this session was removed/);
    await client.end().catch(() => undefined);
    // No principal maps app_user any more: in mode both it is a password login again, and the token fails.
    await refused('app_user', token, /authentication failed for user "app_user"/);
  });
});
