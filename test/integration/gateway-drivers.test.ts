import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import postgres from 'postgres';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * End-to-end through the gateway with real drivers (node-postgres and
 * postgres.js): both protocols, COPY, LISTEN/NOTIFY, large values, cancel
 * routing through the gateway's own BackendKeyData, fresh backend sessions,
 * startup parameters, failures of the backend or the client, the gateway's
 * limits and malformed input.
 */

const ADMIN = 'pgwarden';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`, or rejects after `ms` saying what did not happen. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `probe` until it returns something other than undefined; undefined on timeout. */
async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** What node-postgres keeps of the BackendKeyData message (not in its typings). */
interface BackendKeyFields {
  processID: number;
  secretKey: number;
}

/** node-postgres's socket, to misbehave on purpose. */
function pgSocket(client: pg.Client): net.Socket {
  return (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
}

/** Splits typed protocol messages (backend → frontend). */
function parseMessages(data: Buffer): { type: string; body: Buffer }[] {
  const messages: { type: string; body: Buffer }[] = [];
  let offset = 0;
  while (offset + 5 <= data.length) {
    const length = data.readInt32BE(offset + 1);
    if (length < 4 || offset + 1 + length > data.length) break;
    messages.push({
      type: String.fromCharCode(data[offset] as number),
      body: data.subarray(offset + 5, offset + 1 + length),
    });
    offset += 1 + length;
  }
  return messages;
}

/** The fields of an ErrorResponse body: S, V, C, M, … */
function errorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const code = String.fromCharCode(body[offset] as number);
    const end = body.indexOf(0, offset + 1);
    if (end === -1) break;
    fields.set(code, body.toString('utf8', offset + 1, end));
    offset = end + 1;
  }
  return fields;
}

/** The one ErrorResponse in what a raw client received, asserting there is exactly one message and it is one. */
function onlyError(data: Buffer): Map<string, string> {
  const messages = parseMessages(data);
  assert.equal(messages.length, 1, `one message expected, got ${data.toString('hex')}`);
  const [message] = messages;
  assert.equal(message?.type, 'E', 'an ErrorResponse');
  return errorFields(message.body);
}

interface RawResult {
  data: Buffer;
  /** From the TCP connect until the gateway closed the socket. */
  elapsedMs: number;
  closed: boolean;
}

/** A plain TCP client: sends `bytes` (if any) and reads until the gateway closes or `timeoutMs`. */
function rawExchange(
  port: number,
  bytes: Buffer | undefined,
  timeoutMs: number,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let started = Date.now();
    let done = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), elapsedMs: Date.now() - started, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => {
      started = Date.now();
      if (bytes !== undefined) socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

/** A CancelRequest over a plain TCP connection, as libpq and node-postgres send it. */
async function sendCancelRequest(port: number, processId: number, secretKey: number) {
  const request = Buffer.alloc(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(80877102, 4);
  request.writeInt32BE(processId, 8);
  request.writeInt32BE(secretKey, 12);
  const result = await rawExchange(port, request, 5000);
  assert.equal(result.closed, true, 'the gateway closes a cancel connection');
  assert.equal(result.data.length, 0, 'a CancelRequest gets no answer');
}

/** Clients of every kind, closed before the server's teardown. */
class Clients {
  private readonly closers = new Set<() => Promise<unknown>>();

  add(close: () => Promise<unknown>): () => Promise<void> {
    const once = async () => {
      if (!this.closers.delete(close)) return;
      await withTimeout(
        close().catch(() => undefined),
        5000,
        'client close',
      ).catch(() => undefined);
    };
    this.closers.add(close);
    return once;
  }

  async closeAll(): Promise<void> {
    const all = [...this.closers];
    this.closers.clear();
    await Promise.all(
      all.map((close) =>
        withTimeout(
          close().catch(() => undefined),
          5000,
          'client close',
        ).catch(() => undefined),
      ),
    );
  }
}

/** A node-postgres client through the gateway, with every 'error' it emits recorded. */
interface Watched {
  client: pg.Client;
  errors: (Error & { code?: string })[];
  /** Resolves when the connection has ended, whoever ended it. */
  ended: Promise<void>;
  close: () => Promise<void>;
}

function helpers(server: TempServer, clients: Clients) {
  const config = (overrides: pg.ClientConfig = {}, user = ADMIN, password?: string) => ({
    ...server.gatewayClientConfig(user, password ?? server.adminPassword()),
    ...overrides,
  });

  const connectPg = async (
    overrides: pg.ClientConfig = {},
    user = ADMIN,
    password?: string,
  ): Promise<Watched> => {
    const client = new pg.Client(config(overrides, user, password));
    const errors: Watched['errors'] = [];
    client.on('error', (error) => errors.push(error));
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    const close = clients.add(() => client.end());
    await client.connect();
    return { client, errors, ended, close };
  };

  const connectJs = (options: { max?: number; connection?: Record<string, string> } = {}) => {
    const sql = postgres({
      host: 'localhost',
      port: server.gatewayPort(),
      user: ADMIN,
      pass: server.adminPassword(),
      database: 'postgres',
      ssl: {
        ca: readFileSync(server.caFile, 'utf8'),
        servername: 'localhost',
        minVersion: 'TLSv1.3',
      },
      max: options.max ?? 1,
      connect_timeout: 10,
      onnotice: () => undefined,
      ...(options.connection === undefined ? {} : { connection: options.connection }),
    });
    const close = clients.add(() => sql.end({ timeout: 1 }));
    return { sql, close };
  };

  return { config, connectPg, connectJs };
}

for (const { pgBin, version } of await testBinarySources()) {
  describe(`gateway with real drivers (${pgBin} PostgreSQL ${version})`, () => {
    const clients = new Clients();
    let su: pg.Client | undefined;
    after(() => clients.closeAll()); // registered first, so it runs before the teardown
    after(() => su?.end().catch(() => undefined));
    const server = TempServer.create(pgBin, (fn) => after(fn));
    const { config, connectPg, connectJs } = helpers(server, clients);
    const superuser = () => {
      if (su === undefined) throw new Error('no superuser connection');
      return su;
    };

    before(async () => {
      await server.up();
      su = await server.superuser();
      await su.query('CREATE SCHEMA myschema AUTHORIZATION pgwarden');
    });

    /** The gateway sessions' backends with this application_name, from pg_stat_activity. */
    const backendsOf = async (applicationName: string) =>
      (
        await superuser().query<{ pid: number; state: string; query: string }>(
          'SELECT pid, state, query FROM pg_stat_activity WHERE application_name = $1',
          [applicationName],
        )
      ).rows;

    it('node-postgres: simple queries, one and several statements', async () => {
      const { client, close } = await connectPg();
      const one = await client.query("SELECT 1 AS one, 'zwölf' AS s, NULL::int AS n");
      assert.deepEqual(one.rows, [{ one: 1, s: 'zwölf', n: null }]);
      const several = (await client.query(
        'CREATE TABLE simple_t (id int); INSERT INTO simple_t VALUES (1), (2), (3); SELECT sum(id)::int AS total FROM simple_t',
      )) as unknown as pg.QueryResult[];
      assert.equal(several.length, 3);
      assert.equal(several[1]?.rowCount, 3);
      assert.deepEqual(several[2]?.rows, [{ total: 6 }]);
      await assert.rejects(client.query('SELECT * FROM no_such_table'), { code: '42P01' });
      assert.deepEqual((await client.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
      await close();
    });

    it('node-postgres: extended protocol with parameters', async () => {
      const { client, close } = await connectPg();
      const r = await client.query(
        'SELECT $1::int + $2::int AS sum, $3::text AS t, $4::text IS NULL AS isnull, $5::jsonb AS j',
        [40, 2, 'ünïcødé \u{1F600}', null, JSON.stringify({ a: [1, 2] })],
      );
      assert.deepEqual(r.rows, [
        { sum: 42, t: 'ünïcødé \u{1F600}', isnull: true, j: { a: [1, 2] } },
      ]);
      await assert.rejects(client.query('SELECT $1::int AS x', ['not a number']), {
        code: '22P02',
      });
      assert.deepEqual((await client.query('SELECT $1::int AS x', [7])).rows, [{ x: 7 }]);
      await close();
    });

    it('node-postgres: a named prepared statement is parsed once and reused', async () => {
      const { client, close } = await connectPg();
      const first = await client.query({
        name: 'twice',
        text: 'SELECT $1::int * 2 AS d',
        values: [21],
      });
      const second = await client.query({
        name: 'twice',
        text: 'SELECT $1::int * 2 AS d',
        values: [50],
      });
      assert.deepEqual(first.rows, [{ d: 42 }]);
      assert.deepEqual(second.rows, [{ d: 100 }]);
      const prepared = await client.query(
        'SELECT name, statement FROM pg_prepared_statements WHERE NOT from_sql',
      );
      assert.deepEqual(prepared.rows, [{ name: 'twice', statement: 'SELECT $1::int * 2 AS d' }]);
      await close();
    });

    it('node-postgres: COPY FROM STDIN without a source fails cleanly and the session goes on', async () => {
      // node-postgres answers CopyInResponse with CopyFail when it has no stream to send.
      const { client, close } = await connectPg();
      await client.query('CREATE TEMP TABLE copy_fail (x int)');
      await assert.rejects(client.query('COPY copy_fail FROM STDIN'), { code: '57014' });
      assert.deepEqual((await client.query('SELECT count(*)::int AS n FROM copy_fail')).rows, [
        { n: 0 },
      ]);
      await close();
    });

    it("node-postgres: the BackendKeyData is the gateway's own, not the backend's", async () => {
      const { client, close } = await connectPg();
      const keys = client as unknown as BackendKeyFields;
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      assert.ok(Number.isInteger(keys.processID) && keys.processID > 0, String(keys.processID));
      assert.ok(Number.isInteger(pid) && pid > 0);
      assert.notEqual(keys.processID, pid);
      await close();
    });

    it("node-postgres: a CancelRequest with the client's keys cancels pg_sleep (57014), a wrong key does not", async () => {
      const { client, close } = await connectPg({ application_name: 'gw-pg-cancel' });
      const keys = client as unknown as BackendKeyFields;
      const running = client.query('SELECT pg_sleep(30)');
      running.catch(() => undefined);
      const active = await pollUntil(async () => {
        const rows = await backendsOf('gw-pg-cancel');
        return rows.some((row) => row.state === 'active' && row.query.includes('pg_sleep'))
          ? true
          : undefined;
      }, 5000);
      assert.equal(active, true, 'the query runs');

      // The wrong secret: nothing happens.
      await sendCancelRequest(server.gatewayPort(), keys.processID, keys.secretKey ^ 0x5a5a5a5a);
      const early = await Promise.race([
        running.then(
          () => 'finished',
          () => 'failed',
        ),
        sleep(1000).then(() => 'still running'),
      ]);
      assert.equal(early, 'still running', 'a CancelRequest with a wrong secret must not cancel');

      await sendCancelRequest(server.gatewayPort(), keys.processID, keys.secretKey);
      await assert.rejects(withTimeout(running, 5000, 'cancel'), { code: '57014' });
      assert.deepEqual((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
      await close();
    });

    it('node-postgres: LISTEN/NOTIFY between two gateway connections', async () => {
      const listener = await connectPg();
      const notifier = await connectPg();
      await listener.client.query('LISTEN gw_channel');
      const received = new Promise<pg.Notification>((resolve) =>
        listener.client.on('notification', resolve),
      );
      await notifier.client.query("SELECT pg_notify('gw_channel', $1)", ['payload ✓ 1']);
      const note = await withTimeout(received, 5000, 'notification');
      assert.equal(note.channel, 'gw_channel');
      assert.equal(note.payload, 'payload ✓ 1');
      await listener.close();
      await notifier.close();
    });

    it('node-postgres: a 100 MB bytea parameter goes in and comes back intact', async () => {
      const { client, close } = await connectPg();
      const data = randomBytes(100 * 1024 * 1024);
      const digest = createHash('sha256').update(data).digest('hex');
      await client.query('CREATE TABLE blobs (id int PRIMARY KEY, b bytea)');
      await client.query('ALTER TABLE blobs ALTER COLUMN b SET STORAGE EXTERNAL');
      await client.query('INSERT INTO blobs VALUES (1, $1)', [data]);
      const server_ = await client.query(
        "SELECT length(b) AS len, encode(sha256(b), 'hex') AS h FROM blobs WHERE id = 1",
      );
      assert.deepEqual(server_.rows, [{ len: data.length, h: digest }]);
      const back = (await client.query('SELECT b FROM blobs WHERE id = 1')).rows[0].b as Buffer;
      assert.equal(back.length, data.length);
      assert.equal(createHash('sha256').update(back).digest('hex'), digest);
      await client.query('DROP TABLE blobs');
      await close();
    });

    it('postgres.js: simple, extended and prepared queries', async () => {
      const { sql, close } = connectJs();
      const simple = await sql.unsafe("SELECT 1 AS a; SELECT 'b' AS b");
      assert.deepEqual(
        (simple as unknown as unknown[][]).map((rows) => [...rows]),
        [[{ a: 1 }], [{ b: 'b' }]],
      );
      const n = 20;
      const text = 'zwölf \u{1F600}';
      const extended = await sql`SELECT ${n}::int + 1 AS n, ${text}::text AS t`;
      assert.deepEqual([...extended], [{ n: 21, t: text }]);
      const prepared = await sql.unsafe('SELECT $1::int * 3 AS x', [5], { prepare: true });
      const again = await sql.unsafe('SELECT $1::int * 3 AS x', [7], { prepare: true });
      assert.deepEqual([...prepared, ...again], [{ x: 15 }, { x: 21 }]);
      const statements =
        await sql`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = 'SELECT $1::int * 3 AS x'`;
      assert.deepEqual([...statements], [{ n: 1 }]);
      await assert.rejects(sql`SELECT 1/0`, { code: '22012' });
      await close();
    });

    it('postgres.js: pipelined queries on one connection', async () => {
      const { sql, close } = connectJs({ max: 1 });
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) => sql`SELECT ${i}::int AS i, pg_backend_pid() AS pid`),
      );
      assert.deepEqual(
        results.map((rows) => rows[0]?.i),
        Array.from({ length: 25 }, (_, i) => i),
      );
      assert.equal(new Set(results.map((rows) => rows[0]?.pid)).size, 1, 'one connection');
      // An error in the middle of a pipeline fails only its own query.
      const mixed = await Promise.allSettled([
        sql`SELECT 1 AS x`,
        sql`SELECT 1/0 AS x`,
        sql`SELECT 3 AS x`,
      ]);
      assert.equal(mixed[0]?.status, 'fulfilled');
      assert.equal(mixed[1]?.status, 'rejected');
      assert.equal(mixed[2]?.status, 'fulfilled');
      assert.deepEqual(mixed[2]?.status === 'fulfilled' ? [...mixed[2].value] : [], [{ x: 3 }]);
      await close();
    });

    it('postgres.js: COPY FROM STDIN and COPY TO STDOUT through streams', async () => {
      const { sql, close } = connectJs();
      await sql`CREATE TABLE copy_items (id int PRIMARY KEY, name text)`;
      const rows = 50_000;
      const lines: string[] = [];
      for (let i = 1; i <= rows; i++) lines.push(`${i}\tname-ü-${i}\n`);
      const expected = lines.join('');
      const chunks = function* () {
        for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('');
      };
      const writable = await sql.unsafe('COPY copy_items (id, name) FROM STDIN').writable();
      await pipeline(Readable.from(chunks()), writable);
      const counted =
        await sql`SELECT count(*)::int AS n, sum(id)::bigint AS s, max(name) FILTER (WHERE id = 777) AS name FROM copy_items`;
      assert.deepEqual(
        { ...counted[0] },
        { n: rows, s: String((rows * (rows + 1)) / 2), name: 'name-ü-777' },
      );

      const readable =
        await sql`COPY (SELECT id, name FROM copy_items ORDER BY id) TO STDOUT`.readable();
      const out: Buffer[] = [];
      for await (const chunk of readable) out.push(chunk as Buffer);
      const text = Buffer.concat(out).toString('utf8');
      assert.equal(text.length, expected.length);
      assert.ok(text === expected, 'COPY TO STDOUT returns exactly what went in');
      assert.deepEqual([...(await sql`SELECT 1 AS after_copy`)], [{ after_copy: 1 }]);
      await sql`DROP TABLE copy_items`;
      await close();
    });

    it('postgres.js: LISTEN/NOTIFY', async () => {
      const { sql, close } = connectJs({ max: 2 });
      const other = connectJs();
      let resolveNote: (payload: string) => void = () => undefined;
      const received = new Promise<string>((resolve) => {
        resolveNote = resolve;
      });
      const listening = await sql.listen('gw_js_channel', (payload) => resolveNote(payload));
      await other.sql`SELECT pg_notify('gw_js_channel', ${'payload from postgres.js'})`;
      assert.equal(await withTimeout(received, 5000, 'notification'), 'payload from postgres.js');
      await listening.unlisten();
      await other.close();
      await close();
    });

    it('postgres.js: query.cancel() of pg_sleep gives 57014 and the connection goes on', async () => {
      const { sql, close } = connectJs({ max: 1 });
      const query = sql`SELECT pg_sleep(30)`.execute();
      const timer = setTimeout(() => query.cancel(), 300);
      try {
        await assert.rejects(withTimeout(query, 10_000, 'cancel'), { code: '57014' });
      } finally {
        clearTimeout(timer);
      }
      assert.deepEqual([...(await sql`SELECT 1 AS ok`)], [{ ok: 1 }]);
      await close();
    });

    it('gives every connection a fresh backend session', async () => {
      const first = await connectPg();
      const a = first.client;
      const pidA = (await a.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      await a.query("SELECT set_config('my.var', 'left over', false)");
      await a.query('CREATE TEMP TABLE leftover_tmp (x int)');
      await a.query('SELECT pg_advisory_lock(4242)');
      await a.query('PREPARE leftover_stmt AS SELECT 1');
      // All of it is there in the first session …
      const seen = await a.query(
        `SELECT current_setting('my.var', true) AS var,
                to_regclass('leftover_tmp') IS NOT NULL AS tmp,
                (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks,
                (SELECT count(*)::int FROM pg_prepared_statements) AS prepared`,
      );
      assert.deepEqual(seen.rows, [{ var: 'left over', tmp: true, locks: 1, prepared: 1 }]);
      await first.close();
      // … and once that backend is gone, none of it is in the next one.
      const gone = await pollUntil(async () => {
        const r = await superuser().query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pidA]);
        return r.rowCount === 0 ? true : undefined;
      }, 5000);
      assert.equal(gone, true, 'the first backend ends with its client');
      const { client: b, close } = await connectPg();
      const fresh = await b.query(
        `SELECT pg_backend_pid() AS pid,
                current_setting('my.var', true) AS var,
                to_regclass('leftover_tmp') IS NOT NULL AS tmp,
                (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks,
                (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
                pg_try_advisory_lock(4242) AS free`,
      );
      const row = fresh.rows[0];
      assert.notEqual(row.pid, pidA);
      assert.deepEqual(
        { ...row, pid: undefined },
        { pid: undefined, var: null, tmp: false, locks: 0, prepared: 0, free: true },
      );
      await close();
    });

    it('passes startup parameters to the server unchanged', async () => {
      const withOptions = await connectPg({
        application_name: 'gw-startup-options',
        options:
          '-c search_path=myschema,public -c statement_timeout=1234 -c DateStyle=German -c TimeZone=Asia/Tokyo',
      });
      const show = async (client: pg.Client, name: string) => {
        const r = await client.query(`SHOW ${name}`);
        assert.equal(r.rows.length, 1);
        return Object.values(r.rows[0])[0] as string;
      };
      const c = withOptions.client;
      assert.equal(await show(c, 'application_name'), 'gw-startup-options');
      assert.equal(await show(c, 'search_path'), 'myschema,public');
      assert.equal(await show(c, 'statement_timeout'), '1234ms');
      assert.equal(await show(c, 'DateStyle'), 'German, DMY');
      assert.equal(await show(c, 'TimeZone'), 'Asia/Tokyo');
      assert.equal((await c.query('SELECT current_schema() AS s')).rows[0].s, 'myschema');
      const activity = await c.query(
        'SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()',
      );
      assert.deepEqual(activity.rows, [{ application_name: 'gw-startup-options' }]);
      await withOptions.close();

      // node-postgres's own statement_timeout setting is a startup parameter of its own.
      const withSetting = await connectPg({
        application_name: 'gw-startup-setting',
        statement_timeout: 4321,
      });
      assert.equal(await show(withSetting.client, 'statement_timeout'), '4321ms');
      assert.equal(await show(withSetting.client, 'application_name'), 'gw-startup-setting');
      await withSetting.close();

      // postgres.js sends its `connection` entries as startup parameters.
      const js = connectJs({
        connection: {
          application_name: 'gw-startup-js',
          options: '-c search_path=myschema -c DateStyle=SQL,MDY',
        },
      });
      const [row] = await js.sql`SELECT current_setting('application_name') AS app,
        current_setting('search_path') AS path, current_setting('DateStyle') AS style,
        (SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS activity`;
      assert.deepEqual(
        { ...row },
        { app: 'gw-startup-js', path: 'myschema', style: 'SQL, MDY', activity: 'gw-startup-js' },
      );
      await js.close();
    });

    it('answers malformed input with 08P01 and closes, and still admits clients', async () => {
      const port = server.gatewayPort();
      // A length below the minimum, then junk.
      const short = await rawExchange(
        port,
        Buffer.from([0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef]),
        10_000,
      );
      assert.equal(short.closed, true, 'the socket is closed');
      const shortError = onlyError(short.data);
      assert.equal(shortError.get('S'), 'FATAL');
      assert.equal(shortError.get('C'), '08P01');

      // An SSLRequest code followed by junk it cannot have.
      const sslJunk = Buffer.alloc(16);
      sslJunk.writeInt32BE(16, 0);
      sslJunk.writeInt32BE(80877103, 4);
      sslJunk.write('junkjunk', 8, 'latin1');
      const junk = await rawExchange(port, sslJunk, 10_000);
      assert.equal(junk.closed, true);
      assert.equal(onlyError(junk.data).get('C'), '08P01');

      // After authentication: a message whose length is below 4, from a driver's socket.
      const broken = await connectPg();
      pgSocket(broken.client).write(Buffer.from([0x51, 0, 0, 0, 2]));
      await withTimeout(broken.ended, 5000, 'the gateway closes the session');
      assert.ok(
        broken.errors.some((error) => error.code === '08P01'),
        `08P01 expected, got ${broken.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`,
      );
      await broken.close();

      const { client, close } = await connectPg();
      assert.deepEqual((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
      await close();
    });

    it('refuses a StartupMessage of protocol 9.0 as PostgreSQL does: FATAL 0A000', async () => {
      // PostgreSQL (ProcessStartupPacket) answers ERRCODE_FEATURE_NOT_SUPPORTED.
      const parameters = Buffer.from('user\0pgwarden\0database\0postgres\0\0');
      const v9 = Buffer.alloc(8 + parameters.length);
      v9.writeInt32BE(v9.length, 0);
      v9.writeInt32BE(9 << 16, 4);
      parameters.copy(v9, 8);
      const version = await rawExchange(server.gatewayPort(), v9, 10_000);
      assert.equal(version.closed, true);
      const versionError = onlyError(version.data);
      assert.equal(versionError.get('S'), 'FATAL');
      assert.match(versionError.get('M') ?? '', /unsupported frontend protocol 9\.0/);
      assert.equal(versionError.get('C'), '0A000');
    });

    it('pg_terminate_backend: that client gets 57P01, another session and new ones work', async () => {
      const victim = await connectPg({ application_name: 'gw-victim' });
      const bystander = await connectPg({ application_name: 'gw-bystander' });
      const running = victim.client.query('SELECT pg_sleep(10)');
      running.catch(() => undefined);
      const pid = await pollUntil(async () => {
        const rows = await backendsOf('gw-victim');
        return rows.find((row) => row.state === 'active')?.pid;
      }, 5000);
      assert.ok(pid !== undefined, 'the victim is found by application_name');
      const terminated = await superuser().query('SELECT pg_terminate_backend($1) AS ok', [pid]);
      assert.deepEqual(terminated.rows, [{ ok: true }]);
      await assert.rejects(withTimeout(running, 5000, 'termination'), { code: '57P01' });
      await withTimeout(victim.ended, 5000, 'the victim connection ends');
      assert.deepEqual((await bystander.client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
      const fresh = await connectPg();
      assert.deepEqual((await fresh.client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
      await Promise.all([victim.close(), bystander.close(), fresh.close()]);
    });

    it('a client leaving during pg_sleep(10) takes its backend session with it', async () => {
      const leaver = await connectPg({ application_name: 'gw-leaver' });
      const running = leaver.client.query('SELECT pg_sleep(10)');
      running.catch(() => undefined);
      const pid = await pollUntil(async () => {
        const rows = await backendsOf('gw-leaver');
        return rows.find((row) => row.state === 'active')?.pid;
      }, 5000);
      assert.ok(pid !== undefined, 'the query runs');
      const left = Date.now();
      pgSocket(leaver.client).destroy();
      // Polled beyond the limit, so a failure says how long the backend stayed.
      const gone = await pollUntil(async () => {
        const r = await superuser().query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
        return r.rowCount === 0 ? Date.now() - left : undefined;
      }, 15_000);
      assert.ok(
        gone !== undefined && gone <= 5000,
        `backend ${pid} left pg_stat_activity ${gone ?? 'more than 15000'} ms after its client disconnected (limit 5000 ms)`,
      );
      await leaver.close();
    });

    it('a backend killed with SIGKILL: its client gets an error, and after crash recovery the gateway works again', async () => {
      const crash = await connectPg({ application_name: 'gw-crash' });
      const running = crash.client.query('SELECT pg_sleep(30)');
      running.catch(() => undefined);
      const pid = await pollUntil(async () => {
        const rows = await backendsOf('gw-crash');
        return rows.find((row) => row.state === 'active')?.pid;
      }, 5000);
      assert.ok(pid !== undefined, 'the query runs');
      process.kill(pid, 'SIGKILL');
      await assert.rejects(
        withTimeout(running, 10_000, 'an error after SIGKILL'),
        (error: Error) => {
          assert.doesNotMatch(error.message, /^timed out/);
          return true;
        },
      );
      await crash.close();
      const recovered = await pollUntil(
        async () => {
          const client = new pg.Client(config());
          client.on('error', () => undefined);
          try {
            await client.connect();
            return (await client.query('SELECT 1 AS ok')).rows[0].ok as number;
          } finally {
            await client.end().catch(() => undefined);
          }
        },
        30_000,
        500,
      );
      assert.equal(recovered, 1, 'a new connection through the gateway works after recovery');
      // The superuser connection died in the crash too.
      await su?.end().catch(() => undefined);
      su = await server.superuser();
    });
  });

  describe(`gateway limits (${pgBin} PostgreSQL ${version})`, () => {
    const clients = new Clients();
    after(() => clients.closeAll());
    const server = TempServer.create(pgBin, (fn) => after(fn));
    const { connectPg } = helpers(server, clients);
    const APP = 'gw_app';
    const APP_PASSWORD = 'a-long-app-password-1';

    before(async () => {
      mkdirSync(server.dataDir, { recursive: true });
      writeFileSync(
        server.layout.configFile,
        [
          'gateway:',
          '  maxConnectionsPerRole: 2',
          '  maxMessageLength: 65536',
          '  authenticationTimeoutSeconds: 2',
          '  idleSessionTimeoutSeconds: 2',
          '',
        ].join('\n'),
      );
      await server.up();
      const su = await server.superuser();
      try {
        await su.query(`CREATE ROLE ${APP} LOGIN PASSWORD '${APP_PASSWORD}'`);
      } finally {
        await su.end();
      }
    });

    it('refuses a third session of one role with 53300, and admits one again when a slot frees', async () => {
      const one = await connectPg();
      const two = await connectPg();
      await assert.rejects(connectPg(), (error: Error & { code?: string }) => {
        assert.equal(error.code, '53300');
        assert.equal(error.message, `too many connections for role "${ADMIN}"`);
        return true;
      });
      // Another role is not affected.
      const other = await connectPg({}, APP, APP_PASSWORD);
      assert.deepEqual((await other.client.query('SELECT current_user AS u')).rows, [{ u: APP }]);
      await Promise.all([one.close(), other.close()]);
      const again = await pollUntil(async () => {
        const third = await connectPg();
        const ok = (await third.client.query('SELECT 1 AS ok')).rows[0].ok as number;
        await third.close();
        return ok;
      }, 3000);
      assert.equal(again, 1, 'a slot freed by a closed session is usable');
      await two.close();
    });

    it('closes a session sending a message over maxMessageLength with 54000, others go on', async () => {
      const bystander = await connectPg({}, APP, APP_PASSWORD);
      const sender = await connectPg({}, APP, APP_PASSWORD);
      const fits = await sender.client.query(`SELECT length('${'y'.repeat(60_000)}') AS n`);
      assert.deepEqual(fits.rows, [{ n: 60_000 }]);
      await assert.rejects(sender.client.query(`SELECT '${'x'.repeat(100_000)}' AS big`), {
        code: '54000',
      });
      await withTimeout(sender.ended, 5000, 'the gateway closes the session');
      await assert.rejects(sender.client.query('SELECT 1'));
      assert.deepEqual((await bystander.client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
      await Promise.all([sender.close(), bystander.close()]);
    });

    it('closes a connection that sends nothing after authenticationTimeoutSeconds', async () => {
      const result = await rawExchange(server.gatewayPort(), undefined, 15_000);
      assert.equal(result.closed, true, 'closed by the gateway');
      // The reason, not the time, proves the authentication timer closed it.
      const fields = onlyError(result.data);
      assert.equal(fields.get('C'), '57014');
      assert.equal(fields.get('M'), 'canceling authentication due to timeout');
    });

    const expectIdleClose = async (idle: Watched) => {
      await withTimeout(idle.ended, 8000, 'the idle session is closed');
      assert.ok(
        idle.errors.some((error) => error.code === '57P05'),
        `57P05 expected, got ${idle.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`,
      );
      await idle.close();
    };

    it('closes a session idle after a query after idleSessionTimeoutSeconds with 57P05', async () => {
      const idle = await connectPg({}, APP, APP_PASSWORD);
      assert.deepEqual((await idle.client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
      await expectIdleClose(idle);
    });

    it('closes a session idle since it connected after idleSessionTimeoutSeconds with 57P05', async () => {
      const idle = await connectPg({}, APP, APP_PASSWORD);
      await expectIdleClose(idle);
    });

    it('keeps a session that is idle inside a transaction', async () => {
      // The gateway's idle timeout applies outside transactions only (PostgreSQL's
      // idle_in_transaction_session_timeout is the setting for the other case).
      const busy = await connectPg({}, APP, APP_PASSWORD);
      await busy.client.query('BEGIN');
      await sleep(3500);
      assert.deepEqual((await busy.client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
      await busy.client.query('COMMIT');
      assert.deepEqual(busy.errors, []);
      await busy.close();
    });
  });
}
