import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 7, honeytokens: rows planted or marked with `pgwarden detect
 * honeytoken add`, read through the real gateway by the roles below. Each
 * scenario logs in as its own role, so its alerts are told apart by user.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';
const PASSWORD = 'Honey-Pot-Reader-42';
const ROLES = ['mallory', 'app', 'returner', 'copier', 'afterwards', 'probe'];

type Rec = Record<string, unknown>;
interface Alert {
  user: string;
  address: string;
  detail: string;
  key: string;
  severity: string;
  evidence: number;
}

interface HoneytokenJson {
  id: number;
  database: string;
  table: string;
  marker: string;
  createdBy: string;
  selector: { mode: string; column: string; schema: string; table: string; where?: string };
}

describe(`honeytokens through the gateway (${pgBin} ${source?.version ?? ''})`, () => {
  const clients: pg.Client[] = [];
  // Registered first, so it runs before the server is torn down.
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));

  const connect = async (user: string): Promise<pg.Client> => {
    const client = new pg.Client(server.gatewayClientConfig(user, PASSWORD));
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };

  /** One session as `user`: runs `fn`, then logs out. */
  const session = async (user: string, fn: (client: pg.Client) => Promise<void>) => {
    const client = await connect(user);
    try {
      await fn(client);
    } finally {
      await client.end();
    }
  };

  const superuser = async <R extends pg.QueryResultRow>(
    sql: string,
    values: unknown[] = [],
    database = 'postgres',
  ) => {
    const su = await server.superuser(database);
    try {
      return (await su.query<R>(sql, values)).rows;
    } finally {
      await su.end();
    }
  };

  const cli = async (args: string[]) => server.cli(['detect', 'honeytoken', ...args]);

  const add = async (args: string[]): Promise<HoneytokenJson[]> => {
    const result = await cli(['add', ...args, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as HoneytokenJson[];
  };

  const events = (): Rec[] => {
    const file = server.layout.gatewayEvents;
    return existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Rec)
      : [];
  };

  /** honeytoken.read alerts in the events file, optionally of one user. */
  const alerts = (user?: string): Alert[] =>
    events()
      .filter((e) => e.event === 'alert.raised' && (e.alert as Rec).type === 'honeytoken.read')
      .map((e) => ({
        user: e.user as string,
        address: e.address as string,
        detail: e.detail as string,
        key: (e.alert as Rec).key as string,
        severity: (e.alert as Rec).severity as string,
        evidence: (e.alert as Rec).evidence as number,
      }))
      .filter((a) => user === undefined || a.user === user);

  let canaries = 0;
  /**
   * A barrier: plants a fresh canary honeytoken and reads it as `probe` until
   * its alert is in the events file. Gateways load every honeytoken at each
   * change, and events are written in order, so by then every earlier
   * honeytoken change is loaded and every earlier alert is on disk.
   */
  const settled = async (): Promise<void> => {
    canaries++;
    const [canary] = await add([
      '--table',
      'canary',
      '--plant',
      '--column',
      'secret',
      '--values',
      JSON.stringify({ id: canaries }),
    ]);
    assert.ok(canary);
    for (let i = 0; i < 200; i++) {
      await session('probe', async (c) => {
        await c.query('SELECT secret FROM canary WHERE id = $1', [canaries]);
      });
      if (alerts('probe').some((a) => a.key === `${canary.id}:probe`)) return;
      await sleep(50);
    }
    assert.fail('the gateway never picked up the canary honeytoken');
  };

  let marked: HoneytokenJson;
  let planted: HoneytokenJson;

  before(async () => {
    await server.up();
    for (const role of ROLES) await superuser(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
    await superuser(`CREATE TABLE customers (
      id integer PRIMARY KEY,
      name text NOT NULL,
      email varchar(100) NOT NULL UNIQUE,
      tier integer NOT NULL DEFAULT 1,
      note text
    )`);
    await superuser(`INSERT INTO customers (id, name, email, note) VALUES
      (1, 'Ann Other', 'ann.other@example.net', NULL),
      (2, 'Carl Jensen', 'carl.jensen@example.net', 'prefers email'),
      (3, 'Bo', 'bo.larsen.77@example.net', NULL),
      (4, 'Alexandra', 'alex@example.net', NULL),
      (5, 'Dee Mortensen', 'dee.m@example.net', 'referred by Alexandra')`);
    await superuser('CREATE TABLE canary (id integer, secret text)');
    await superuser('CREATE SEQUENCE ticket');
    await superuser('CREATE TABLE counters (id integer, n bigint)');
    await superuser('CREATE VIEW customer_names AS SELECT id, name FROM customers');
    await superuser(
      'CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 150) g',
    );
    await superuser(`GRANT SELECT, UPDATE, DELETE ON customers TO ${ROLES.join(', ')}`);
    await superuser('GRANT SELECT ON canary TO probe');
  });

  it('marks an existing row by its first distinctive text value', async () => {
    const [record, ...more] = await add(['--table', 'customers', '--where', 'id = 3']);
    assert.equal(more.length, 0);
    assert.ok(record);
    marked = record;
    // "Bo" is too short to be a marker: the email is the first usable value.
    assert.equal(record.marker, 'bo.larsen.77@example.net');
    assert.deepEqual(record.selector, {
      mode: 'mark',
      schema: 'public',
      table: 'customers',
      column: 'email',
      where: 'id = 3',
    });
    assert.equal(record.database, 'postgres');
    assert.equal(record.table, 'public.customers');
    // Who did it and when is kept in the state database.
    const [stored] = await superuser<{ created_by: string; marker: string }>(
      'SELECT created_by, marker FROM pgwarden.honeytokens WHERE id = $1',
      [record.id],
      'pgwarden',
    );
    assert.equal(stored?.created_by, userInfo().username);
    assert.equal(stored?.marker, record.marker);
  });

  it('plants a fake row with a generated marker in one statement, defaults elsewhere', async () => {
    const [record] = await add([
      '--table',
      'public.customers',
      '--plant',
      '--column',
      'email',
      '--values',
      '{"id": 1000, "name": "Zed Planted"}',
      '--marker-format',
      '{random}@example.com',
    ]);
    assert.ok(record);
    planted = record;
    assert.match(record.marker, /^[a-z0-9]{16}@example\.com$/);
    assert.equal(record.selector.mode, 'plant');
    const rows = await superuser<Rec>('SELECT id, name, tier FROM customers WHERE email = $1', [
      record.marker,
    ]);
    assert.deepEqual(rows, [{ id: 1000, name: 'Zed Planted', tier: 1 }]);
  });

  it('refuses what would be unsafe or useless, and changes nothing then', async () => {
    const refused = async (args: string[], code: string, message: RegExp) => {
      const result = await cli(['add', ...args]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, message);
      assert.match(result.stderr, new RegExp(`\\(${code}\\)`));
    };
    // "Alexandra" is also inside row 5's note: reading row 5 would look like reading row 4.
    await refused(
      ['--table', 'customers', '--where', 'id = 4', '--column', 'name'],
      'PGW_HONEYTOKEN_NO_MARKER',
      /1 of the 1 selected row\(s\) of public\.customers have no distinctive text value/,
    );
    await refused(
      ['--table', 'customers', '--where', 'id = 3', '--column', 'tier'],
      'PGW_HONEYTOKEN_NO_MARKER',
      /column "tier" of public\.customers is not of a text type/,
    );
    await refused(
      ['--table', 'counters', '--plant', '--column', 'n'],
      'PGW_HONEYTOKEN_NO_MARKER',
      /not of a text type/,
    );
    await refused(
      ['--table', 'counters', '--where', 'true'],
      'PGW_HONEYTOKEN_NO_MARKER',
      /has no text column/,
    );
    await refused(['--table', 'bulk', '--where', 'true'], 'PGW_HONEYTOKEN_LIMIT', /more than 100/);
    await refused(
      ['--table', 'customers', '--where', 'id = 999'],
      'PGW_HONEYTOKEN_INVALID',
      /selects no row/,
    );
    await refused(
      ['--table', 'customer_names', '--where', 'id = 1'],
      'PGW_HONEYTOKEN_INVALID',
      /is not a table/,
    );
    await refused(
      ['--table', 'customers', '--where', 'id = 1; DROP TABLE customers'],
      'PGW_HONEYTOKEN_INVALID',
      /not one SQL expression/,
    );
    // Marking only reads: a condition that writes fails.
    await refused(
      ['--table', 'customers', '--where', "id = 1 AND pg_catalog.nextval('public.ticket') > 0"],
      'PGW_HONEYTOKEN_INVALID',
      /--where failed on public\.customers: cannot execute nextval\(\) in a read-only transaction/,
    );
    // The already marked value is not a marker twice.
    await refused(
      ['--table', 'customers', '--where', 'id = 3', '--column', 'email'],
      'PGW_HONEYTOKEN_NO_MARKER',
      /not a honeytoken already/,
    );
    // A planted row that the table refuses (name is NOT NULL): nothing is stored.
    await refused(
      ['--table', 'customers', '--plant', '--column', 'email', '--values', '{"id": 1001}'],
      'PGW_HONEYTOKEN_INVALID',
      /could not be inserted/,
    );
    const list = await cli(['list', '--json']);
    assert.deepEqual(
      (JSON.parse(list.stdout) as HoneytokenJson[]).map((h) => h.id),
      [marked.id, planted.id],
    );
    assert.equal((await superuser('SELECT 1 FROM customers WHERE id = 1001')).length, 0);
    assert.deepEqual(await superuser('SELECT is_called FROM ticket'), [{ is_called: false }]);
  });

  it('lists the honeytokens for the administrators', async () => {
    const result = await cli(['list']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.match(lines[0] ?? '', /^id\s+database\s+table\s+mode\s+column\s+marker/);
    assert.match(
      result.stdout,
      new RegExp(`${marked.id}\\s+postgres\\s+public\\.customers\\s+mark\\s+email\\s+bo\\.larsen`),
    );
    assert.match(
      result.stdout,
      new RegExp(`${planted.id}\\s+postgres\\s+public\\.customers\\s+plant\\s+email`),
    );
  });

  it('a session that reads the marked row raises exactly one critical honeytoken.read', async () => {
    await settled();
    await session('mallory', async (c) => {
      const first = await c.query('SELECT * FROM customers WHERE id = 3');
      assert.equal(first.rows[0]?.email, marked.marker);
      // The same session reading it again is the same alert, not another.
      await c.query('SELECT email FROM customers WHERE id = 3');
    });
    await settled();
    const raised = alerts('mallory');
    assert.equal(raised.length, 1, JSON.stringify(raised));
    const [alert] = raised;
    assert.equal(alert?.key, `${marked.id}:mallory`);
    assert.equal(alert?.severity, 'critical');
    assert.equal(alert?.evidence, 1);
    assert.match(alert?.address ?? '', /^(127\.0\.0\.1|::1)$/);
    assert.match(
      alert?.detail ?? '',
      new RegExp(
        `^session [0-9a-f]{12} of mallory from ${alert?.address} read honeytoken ${marked.id} \\(postgres\\.public\\.customers\\) in a DataRow$`,
      ),
    );
    // The marker itself (real data here) never reaches the events file.
    assert.ok(!readFileSync(server.layout.gatewayEvents, 'utf8').includes(marked.marker));
  });

  it('raises nothing for other rows, aggregates, writes without RETURNING, or functions of the value', async () => {
    await session('app', async (c) => {
      await c.query('SELECT * FROM customers WHERE id NOT IN (3, 1000)');
      await c.query('SELECT id, name, tier FROM customers');
      const count = await c.query('SELECT count(*)::int AS n FROM customers');
      assert.equal(count.rows[0]?.n, 6);
      await c.query('SELECT length(email), upper(email) FROM customers');
      await c.query("SELECT count(*) FROM customers WHERE email LIKE '%larsen%'");
      await c.query('UPDATE customers SET tier = tier + 1 WHERE id = 3');
      await c.query('BEGIN');
      await c.query('SELECT id FROM customers WHERE id = 3 FOR UPDATE');
      await c.query('ROLLBACK');
      // The extended protocol and a prepared statement, for the other rows.
      await c.query({ name: 'one', text: 'SELECT * FROM customers WHERE id = $1', values: [1] });
      await c.query({ name: 'one', text: 'SELECT * FROM customers WHERE id = $1', values: [2] });
    });
    await settled();
    assert.deepEqual(alerts('app'), []);
  });

  it('RETURNING and binary-format results are reads too', async () => {
    await session('returner', async (c) => {
      const updated = await c.query(
        'UPDATE customers SET tier = tier WHERE id = 3 RETURNING email',
      );
      assert.equal(updated.rows[0]?.email, marked.marker);
    });
    // Results in the binary format: a text value's bytes are the same as in text.
    // (`binary` is a node-postgres client option its types only list under Defaults.)
    const binary = new pg.Client({
      ...server.gatewayClientConfig('returner', PASSWORD),
      binary: true,
    } as pg.ClientConfig);
    binary.on('error', () => undefined);
    clients.push(binary);
    await binary.connect();
    const row = await binary.query('SELECT email FROM customers WHERE id = $1', [1000]);
    assert.equal(row.rows[0]?.email, planted.marker);
    await binary.end();
    await settled();
    assert.deepEqual(
      alerts('returner')
        .map((a) => a.key)
        .sort(),
      [`${marked.id}:returner`, `${planted.id}:returner`].sort(),
    );
  });

  it('COPY … TO STDOUT of the table raises it, in text, CSV and binary format', async () => {
    for (const options of ['', 'WITH (FORMAT csv)', 'WITH (FORMAT binary)']) {
      await session('copier', async (c) => {
        await c.query(`COPY customers TO STDOUT ${options}`);
      });
    }
    await settled();
    const keys = alerts('copier').map((a) => a.key);
    // One alert per session and honeytoken: three sessions, two honeytokens.
    assert.equal(keys.filter((k) => k === `${marked.id}:copier`).length, 3);
    assert.equal(keys.filter((k) => k === `${planted.id}:copier`).length, 3);
    assert.ok(alerts('copier').every((a) => a.detail.endsWith('in a CopyData')));
  });

  it('removing the honeytokens stops the alerts, and takes the planted row away', async () => {
    const removePlanted = await cli(['remove', '--id', String(planted.id)]);
    assert.equal(removePlanted.code, 0, removePlanted.stderr);
    assert.match(removePlanted.stdout, /and the row it planted/);
    assert.equal((await superuser('SELECT 1 FROM customers WHERE id = 1000')).length, 0);
    const removeMarked = await cli(['remove', '--id', String(marked.id)]);
    assert.equal(removeMarked.code, 0, removeMarked.stderr);
    assert.doesNotMatch(removeMarked.stdout, /the row it planted/);
    // A marked row is real data: it stays.
    assert.equal((await superuser('SELECT 1 FROM customers WHERE id = 3')).length, 1);
    const again = await cli(['remove', '--id', String(marked.id)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no honeytoken has id \d+ \(PGW_HONEYTOKEN_NOT_FOUND\)/);

    await settled();
    await session('afterwards', async (c) => {
      await c.query('SELECT * FROM customers');
      await c.query('COPY customers TO STDOUT');
    });
    await settled();
    assert.deepEqual(alerts('afterwards'), []);
  });
});
