import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TestIssuer } from '../helpers/oidc-issuer.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 5, items 5 and 8: conditional access through the gateway. Each
 * condition decides a real login; a denial is FATAL 28000 without the policy
 * name, which goes to the audit event; `access policy test` explains.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';
const SUBJECT = '5d0c1e2f-3333-4a1b-9c8d-7e6f5a4b3c2d';

describe(`conditional access (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const issuer = TestIssuer.create({ issuer: 'https://idp.test/ca', audience: 'api://pgwarden' });
  const cli = async (...args: string[]): Promise<{ code: number; out: string }> => {
    const result = await server.cli(args);
    return { code: result.code ?? -1, out: result.stdout + result.stderr };
  };
  const ok = async (...args: string[]): Promise<string> => {
    const result = await cli(...args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.out}`);
    return result.out;
  };
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1500));

  /** A client CA and a certificate it issued, and a certificate from a CA the gateway does not trust. */
  const certs = (dir: string): Record<string, string> => {
    const openssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    for (const ca of ['ca', 'other-ca']) {
      openssl(
        'req',
        '-x509',
        ...ec,
        '-keyout',
        `${ca}.key`,
        '-out',
        `${ca}.crt`,
        '-subj',
        `/CN=${ca}`,
        '-days',
        '2',
      );
      openssl(
        'req',
        ...ec,
        '-keyout',
        `${ca}-client.key`,
        '-out',
        `${ca}-client.csr`,
        '-subj',
        '/CN=clerk',
      );
      openssl(
        'x509',
        '-req',
        '-in',
        `${ca}-client.csr`,
        '-CA',
        `${ca}.crt`,
        '-CAkey',
        `${ca}.key`,
        '-CAcreateserial',
        '-out',
        `${ca}-client.crt`,
        '-days',
        '2',
      );
    }
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    return {
      caFile: join(dir, 'ca.crt'),
      cert: read('ca-client.crt'),
      key: read('ca-client.key'),
      otherCert: read('other-ca-client.crt'),
      otherKey: read('other-ca-client.key'),
    };
  };
  let client: Record<string, string> = {};

  before(async () => {
    mkdirSync(server.dataDir, { recursive: true });
    const certDir = join(server.dataDir, '..', 'client-certs');
    mkdirSync(certDir);
    client = certs(certDir);
    writeFileSync(
      server.layout.configFile,
      `gateway:\n  tls:\n    clientCaFile: ${client.caFile}\n`,
    );
    await server.up();
    const admin = await server.superuser();
    try {
      await admin.query("CREATE ROLE clerk LOGIN PASSWORD 'clerk-Secret-1'");
      await admin.query('CREATE ROLE robot LOGIN');
    } finally {
      await admin.end();
    }
    const jwks = issuer.writeJwks(join(server.dataDir, '..', 'jwks.json'));
    await ok(
      'identity',
      'provider',
      'add',
      '--name',
      'idp',
      '--issuer',
      issuer.issuer,
      '--audience',
      issuer.audience,
      '--jwks-file',
      jwks,
    );
    await ok(
      'identity',
      'principal',
      'create',
      '--provider',
      'idp',
      '--role',
      'robot',
      '--subject',
      SUBJECT,
      '--type',
      'service',
    );
    await ok('identity', 'mode', 'both');
    await settle();
  });

  const login = async (
    user: string,
    password: string,
    applicationName?: string,
    certificate?: { cert: string; key: string },
  ): Promise<string> => {
    const config = server.gatewayClientConfig(user, password);
    const client = new pg.Client({
      ...config,
      ...(applicationName === undefined ? {} : { application_name: applicationName }),
      ...(certificate === undefined ? {} : { ssl: { ...(config.ssl as object), ...certificate } }),
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u ?? '';
    } finally {
      await client.end();
    }
  };
  const clerk = (app?: string): Promise<string> => login('clerk', 'clerk-Secret-1', app);
  const denied = /access denied for user "\w+" by the server's access policy/;
  const withPolicy = async (args: string[], check: () => Promise<void>): Promise<void> => {
    const name = args[args.indexOf('--name') + 1] as string;
    await ok('access', 'policy', 'create', ...args);
    await settle();
    try {
      await check();
    } finally {
      await ok('access', 'policy', 'delete', '--name', name);
      await settle();
    }
  };

  it('source ranges: only the listed networks', async () => {
    await withPolicy(
      [
        '--name',
        'office-only',
        '--effect',
        'deny',
        '--roles',
        'clerk',
        '--source-ranges',
        '10.0.0.0/8',
      ],
      async () => {
        assert.equal(await clerk(), 'clerk', 'a deny for 10/8 does not touch loopback');
      },
    );
    await withPolicy(
      [
        '--name',
        'no-loopback',
        '--effect',
        'deny',
        '--roles',
        'clerk',
        '--source-ranges',
        '127.0.0.0/8,::1',
      ],
      async () => {
        await assert.rejects(clerk(), (error: Error & { code?: string }) => {
          assert.match(error.message, denied);
          assert.doesNotMatch(error.message, /no-loopback/, 'the client is not told the policy');
          assert.equal(error.code, '28000');
          return true;
        });
        const { out } = await cli('audit', 'search', '--user', 'clerk', '--json');
        assert.match(out, /deny by policy no-loopback/);
      },
    );
  });

  it('time windows, in a time zone', async () => {
    const hour = new Date().getUTCHours();
    const outside = `${String((hour + 2) % 24).padStart(2, '0')}:00-${String((hour + 3) % 24).padStart(2, '0')}:00`;
    const everyDay = 'mon-sun';
    await withPolicy(
      [
        '--name',
        'night-only',
        '--effect',
        'allow',
        '--priority',
        '10',
        '--roles',
        'clerk',
        '--time-windows',
        `${everyDay} ${outside} UTC`,
      ],
      async () => {
        await withPolicy(
          ['--name', 'deny-rest', '--effect', 'deny', '--priority', '20', '--roles', 'clerk'],
          async () => {
            await assert.rejects(clerk(), denied);
            const { out } = await cli(
              'access',
              'policy',
              'test',
              '--role',
              'clerk',
              '--address',
              '127.0.0.1',
            );
            assert.match(out, /deny by policy deny-rest/);
            assert.match(out, /night-only .*outside/);
          },
        );
      },
    );
  });

  it('application names', async () => {
    await withPolicy(
      ['--name', 'no-sqlmap', '--effect', 'deny', '--application-names', 'sqlmap*'],
      async () => {
        assert.equal(await clerk('psql'), 'clerk');
        await assert.rejects(clerk('sqlmap/1.7'), denied);
      },
    );
  });

  it('MFA in the token, and client certificates', async () => {
    await withPolicy(
      ['--name', 'robots-need-mfa', '--effect', 'deny', '--roles', 'robot', '--mfa', 'absent'],
      async () => {
        await assert.rejects(login('robot', issuer.token({ sub: SUBJECT })), denied);
        assert.equal(
          await login('robot', issuer.token({ sub: SUBJECT, amr: ['pwd', 'mfa'] })),
          'robot',
        );
        // A password login never satisfies MFA.
      },
    );
    await withPolicy(
      [
        '--name',
        'cert-required',
        '--effect',
        'deny',
        '--roles',
        'clerk',
        '--client-certificate',
        'absent',
      ],
      async () => {
        await assert.rejects(clerk(), denied);
        const trusted = { cert: client.cert as string, key: client.key as string };
        assert.equal(await login('clerk', 'clerk-Secret-1', undefined, trusted), 'clerk');
        const untrusted = { cert: client.otherCert as string, key: client.otherKey as string };
        await assert.rejects(login('clerk', 'clerk-Secret-1', undefined, untrusted), denied);
      },
    );
  });

  it('ends live sessions that a new policy no longer allows', async () => {
    const client = new pg.Client(server.gatewayClientConfig('clerk', 'clerk-Secret-1'));
    const ended = new Promise<Error>((resolve) => client.once('error', resolve));
    client.on('error', () => undefined); // the end of the connection follows the FATAL
    await client.connect();
    assert.equal((await client.query('SELECT 1 AS one')).rows[0]?.one, 1);
    await withPolicy(['--name', 'lockdown', '--effect', 'deny', '--roles', 'clerk'], async () => {
      const error = await Promise.race([
        ended,
        new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('not ended')), 10_000)),
      ]);
      assert.match(error.message, /the access policy no longer allows this session/);
    });
    await client.end().catch(() => undefined);
  });

  it('refuses invalid policies with a clear error', async () => {
    const bad = await cli(
      'access',
      'policy',
      'create',
      '--name',
      'x',
      '--effect',
      'deny',
      '--source-ranges',
      '10.1.2.3/8',
    );
    assert.equal(bad.code, 2);
    assert.match(bad.out, /10\.0\.0\.0\/8/);
    const zone = await cli(
      'access',
      'policy',
      'create',
      '--name',
      'x',
      '--effect',
      'allow',
      '--time-windows',
      'mon-fri 08:00-18:00 Mars/Olympus',
    );
    assert.match(zone.out, /not a known time zone/);
  });
});
