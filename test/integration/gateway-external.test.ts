import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ExternalPostgres } from '../helpers/external-postgres.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 3, item 6: the gateway in front of a PostgreSQL pgwarden did not
 * create, whose pg_hba.conf requires SCRAM-SHA-256 over TLS: SCRAM
 * pass-through with the client's recovered ClientKey, TLS to the backend.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

describe(`external backend (${pgBin})`, () => {
  const clients: pg.Client[] = [];
  const teardown: (() => Promise<void>)[] = [];
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
  });
  let external: ExternalPostgres;
  const server = TempServer.create(pgBin, (fn) => after(fn));
  // Registered after the server's teardown, so the gateway stops before its backend does.
  after(async () => {
    for (const fn of teardown) await fn();
  });

  before(async () => {
    external = await ExternalPostgres.start(pgBin, (fn) => teardown.push(fn));
    const admin = new pg.Client({
      host: '127.0.0.1',
      port: external.port,
      user: external.superuser,
      password: external.superuserPassword,
      database: 'postgres',
      ssl: { ca: readFileSync(external.caFile), servername: 'localhost' },
    });
    await admin.connect();
    await admin.query("CREATE ROLE app LOGIN PASSWORD 'app-password-123'");
    await admin.query(
      'CREATE TABLE marker (what text); INSERT INTO marker VALUES ($$external$$)'.replace(
        /\$\$/g,
        "'",
      ),
    );
    await admin.query('GRANT SELECT ON marker TO app');
    await admin.end();

    mkdirSync(server.dataDir, { recursive: true });
    const passwordFile = join(server.dataDir, '..', 'auth-password');
    writeFileSync(passwordFile, `${external.superuserPassword}\n`, { mode: 0o600 });
    writeFileSync(
      server.layout.configFile,
      [
        'backend:',
        '  host: 127.0.0.1',
        `  port: ${external.port}`,
        '  tls:',
        '    mode: verify-full',
        `    caFile: ${external.caFile}`,
        '    serverName: localhost',
        `  authUser: ${external.superuser}`,
        `  authPasswordFile: ${passwordFile}`,
        '',
      ].join('\n'),
    );
    await server.up();
  });

  const connect = async (user: string, password: string): Promise<pg.Client> => {
    const client = new pg.Client(server.gatewayClientConfig(user, password));
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };

  it('relays to the external server, logged in by SCRAM pass-through over TLS', async () => {
    const client = await connect('app', 'app-password-123');
    const r = await client.query(
      'SELECT current_user AS u, inet_server_port() AS port, (SELECT what FROM marker) AS what, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl',
    );
    assert.deepEqual(r.rows[0], { u: 'app', port: external.port, what: 'external', ssl: true });
  });

  it('refuses a wrong password and an unknown role alike, and the backend superuser', async () => {
    for (const [user, password] of [
      ['app', 'wrong-password'],
      ['nobody_here', 'whatever-password'],
      [external.superuser, external.superuserPassword],
    ] as const) {
      await assert.rejects(
        connect(user, password),
        (error: { code?: string; message?: string }) => {
          assert.equal(error.code, '28P01');
          assert.equal(error.message, `password authentication failed for user "${user}"`);
          return true;
        },
      );
    }
  });

  it('leaves the managed server holding only pgwarden state: sessions do not reach it', async () => {
    const su = await server.superuser();
    try {
      const r = await su.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'app'");
      assert.equal(r.rows[0].n, 0);
    } finally {
      await su.end();
    }
  });

  it('manages the external server with an access spec (plan, apply, drift), keeping state on the managed one', async () => {
    const spec = join(server.dataDir, '..', 'external-access.yaml');
    writeFileSync(
      spec,
      [
        'database: postgres',
        'roles:',
        '  spec_reader: { login: true }',
        'schemas:',
        '  public:',
        '    tables:',
        '      marker:',
        '        grants: { spec_reader: [SELECT], app: [SELECT] }',
        '',
      ].join('\n'),
    );
    const plan = await server.cli(['access', 'plan', '--spec', spec]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.ok(
      plan.stdout.includes('GRANT SELECT ON TABLE "public"."marker" TO "spec_reader";'),
      plan.stdout,
    );
    const applied = await server.cli(['access', 'apply', '--spec', spec]);
    assert.equal(applied.code, 0, applied.stderr);
    const ext = new pg.Client({
      host: '127.0.0.1',
      port: external.port,
      user: external.superuser,
      password: external.superuserPassword,
      database: 'postgres',
      ssl: { ca: readFileSync(external.caFile), servername: 'localhost' },
    });
    await ext.connect();
    try {
      const r = await ext.query(
        "SELECT has_table_privilege('spec_reader', 'marker', 'SELECT') AS granted",
      );
      assert.equal(r.rows[0].granted, true);
      await ext.query('GRANT INSERT ON marker TO spec_reader');
    } finally {
      await ext.end();
    }
    const su = await server.superuser();
    try {
      const r = await su.query(
        "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'spec_reader'",
      );
      assert.equal(r.rows[0].n, 0, 'the role is made on the external server only');
    } finally {
      await su.end();
    }
    const drift = await server.cli(['access', 'drift']);
    assert.equal(drift.code, 1, drift.stdout + drift.stderr);
    assert.ok(
      drift.stdout.includes('"spec_reader" has INSERT on table "public"."marker"'),
      drift.stdout,
    );
  });
});
