import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 4, item 1 and 5: the effective role after SET ROLE, bound parameters
 * when the policy asks for them (and redacted when the statement may hold a
 * secret), connection attempts with port and authentication method, and
 * durable mode: a statement's result reaches the client only after its
 * record is on disk.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

type Rec = Record<string, unknown>;

describe(`audit details: roles, parameters, connections, durable mode (${pgBin})`, () => {
  let client: pg.Client | undefined;
  // Registered first, so it runs before the server is torn down.
  after(() => client?.end());
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const logDir = (): string => join(server.dataDir, 'audit');
  const records = (): Rec[] =>
    readdirSync(logDir())
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(logDir(), f), 'utf8').split('\n'))
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Rec);
  const statement = (text: string): Rec | undefined =>
    records().find((r) => r.event === 'statement' && r.statement === text);

  before(async () => {
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(server.layout.configFile, 'audit:\n  log: [all, parameters]\n  durable: true\n');
    await server.up();
    client = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    client.on('error', () => undefined);
    await client.connect();
    await sql('CREATE TABLE audit_details (id int, note text)');
    await sql('CREATE ROLE "Report Reader" NOLOGIN');
    await sql('GRANT "Report Reader" TO pgwarden');
    await sql('GRANT SELECT ON audit_details TO "Report Reader"');
  });
  const sql = (text: string, values?: unknown[]): Promise<pg.QueryResult> =>
    (client as pg.Client).query(text, values);

  it('durable mode: each result arrives only after its record is on disk', async () => {
    for (let i = 0; i < 25; i++) {
      const text = `INSERT INTO audit_details VALUES (${7100 + i}, 'durable')`;
      await sql(text);
      // No flush, no wait: the record must already be in the file.
      const record = statement(text);
      assert.ok(record, `the record of statement ${i} is on disk when its result arrives`);
      assert.equal(record.outcome, 'INSERT 0 1');
    }
  });

  it('records the role a statement ran as, following SET ROLE and RESET ROLE', async () => {
    await sql('SET ROLE "Report Reader"');
    await sql('SELECT count(*) AS as_reader FROM audit_details');
    await sql('RESET ROLE');
    await sql('SELECT count(*) AS as_admin FROM audit_details');
    await sql('BEGIN');
    await sql('SET LOCAL ROLE "Report Reader"');
    await sql('SELECT 1 AS local_reader');
    await sql('COMMIT');
    await sql('SELECT 1 AS after_commit');
    const role = (text: string): unknown => statement(text)?.role;
    assert.equal(role('SET ROLE "Report Reader"'), 'pgwarden');
    assert.equal(role('SELECT count(*) AS as_reader FROM audit_details'), 'Report Reader');
    assert.equal(statement('SELECT count(*) AS as_reader FROM audit_details')?.user, 'pgwarden');
    assert.equal(role('SELECT count(*) AS as_admin FROM audit_details'), 'pgwarden');
    assert.equal(role('SELECT 1 AS local_reader'), 'Report Reader');
    assert.equal(role('SELECT 1 AS after_commit'), 'pgwarden');
  });

  it('records bound parameters when the policy says parameters, NULL included', async () => {
    await (client as pg.Client).query({
      name: 'insert_note',
      text: 'INSERT INTO audit_details VALUES ($1, $2)',
      values: [7201, 'a note, with ünïcode'],
    });
    await (client as pg.Client).query({
      name: 'insert_note',
      text: 'INSERT INTO audit_details VALUES ($1, $2)',
      values: [7202, null],
    });
    const executions = records().filter(
      (r) => r.event === 'statement' && r.statement === 'INSERT INTO audit_details VALUES ($1, $2)',
    );
    assert.deepEqual(
      executions.map((r) => r.parameters),
      [
        ['7201', 'a note, with ünïcode'],
        ['7202', null],
      ],
    );
  });

  it('redacts the parameters of a statement that may carry a secret', async () => {
    await sql("SELECT $1::text AS v, 'host=x password=hunter2' AS conninfo", ['param-secret-7301']);
    const text = readdirSync(logDir())
      .map((f) => readFileSync(join(logDir(), f), 'utf8'))
      .join('');
    assert.doesNotMatch(text, /hunter2/);
    assert.doesNotMatch(text, /param-secret-7301/);
    const record = records().find(
      (r) => r.event === 'statement' && String(r.statement).startsWith('SELECT $1::text AS v'),
    );
    assert.deepEqual(record?.parameters, ['<redacted>']);
  });

  it('records each connection attempt, and the authentication method, with the client port', async () => {
    const other = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    await other.connect();
    const port = (other as unknown as { connection: { stream: { localPort: number } } }).connection
      .stream.localPort;
    await other.end();
    const mine = records().filter((r) => r.port === port);
    const received = mine.find((r) => r.event === 'connection.received');
    const succeeded = mine.find((r) => r.event === 'auth.succeeded');
    assert.equal(received?.code, 1000);
    assert.equal(received?.address, '127.0.0.1');
    assert.equal(succeeded?.code, 3001);
    assert.equal(succeeded?.method, 'SCRAM-SHA-256');
    assert.equal(succeeded?.tls, 'TLSv1.3');
    assert.ok(
      (received?.seq as number) < (succeeded?.seq as number),
      'the attempt is recorded before its outcome',
    );
  });

  it('records a failed login with its method', async () => {
    const bad = new pg.Client(server.gatewayClientConfig('pgwarden', 'not-the-password'));
    await assert.rejects(bad.connect(), /password authentication failed/);
    // Connection events are not held for the disk: wait for the batch.
    const deadline = Date.now() + 5000;
    let failed: Rec | undefined;
    while (failed === undefined && Date.now() < deadline) {
      failed = records().find((r) => r.event === 'auth.failed' && r.user === 'pgwarden');
      if (failed === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(failed?.method, 'SCRAM-SHA-256');
    assert.equal(failed?.tls, 'TLSv1.3');
  });
});
