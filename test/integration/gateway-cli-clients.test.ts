import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { inspect } from 'node:util';
import { cleanEnv, collectOutput } from '../helpers/pgwarden-cli.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * End to end through the gateway with the real PostgreSQL command-line
 * clients (psql, pgbench, pg_dump, pg_restore: libpq over verify-full TLS
 * with SCRAM-SHA-256-PLUS), the refusals they see, and the runtime controls
 * (gateway parameters, firewall rules, public network access) applied to a
 * running gateway without a restart.
 */

const APP_USER = 'app';
const APP_PASSWORD = 'app-password-for-tests-1';
const LEGACY_PASSWORD = 'legacy-password-1';
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]); // Int32 8, Int32 80877103
const PLAINTEXT_REFUSAL =
  'FATAL:  SSL connection is required; connect with sslmode=require or verify-full';
const MD5_HINT =
  "HINT:  an administrator must set this role's password again (ALTER ROLE ... PASSWORD) so it is stored as SCRAM-SHA-256";

// ---------------------------------------------------------------- tools

type Tool = 'psql' | 'pgbench' | 'pg_dump' | 'pg_restore';

function findTool(name: Tool): string | undefined {
  const dirs = ['/usr/bin', ...(process.env.PATH ?? '').split(':')];
  for (const dir of dirs) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const TOOLS: Record<Tool, string | undefined> = {
  psql: findTool('psql'),
  pgbench: findTool('pgbench'),
  pg_dump: findTool('pg_dump'),
  pg_restore: findTool('pg_restore'),
};

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with an explicit argument array, killed after `timeoutMs`. */
function run(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = collectOutput(child);
    let killed = '';
    const timer = setTimeout(() => {
      killed = `\n[test: killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: output.stdout(), stderr: output.stderr() + killed });
    });
  });
}

async function toolMajor(file: string): Promise<number> {
  const result = await run(file, ['--version'], cleanEnv(), 10_000);
  const match = /\(PostgreSQL\) (\d+)/.exec(result.stdout);
  assert.ok(match?.[1] !== undefined, `${file} --version: ${result.stdout}${result.stderr}`);
  return Number(match[1]);
}

/** Skips the test when a client program is missing; returns its path otherwise. */
function need(t: TestContext, tool: Tool): string | undefined {
  const file = TOOLS[tool];
  if (file === undefined) t.skip(`${tool} is not installed`);
  return file;
}

/** libpq environment: English messages, UTF8, the password only in PGPASSWORD. */
function libpqEnv(password: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    LC_ALL: 'C',
    LANGUAGE: 'C',
    PGPASSWORD: password,
    PGCLIENTENCODING: 'UTF8',
    PGCONNECT_TIMEOUT: '10',
    ...extra,
  });
}

// ---------------------------------------------------------------- wire helpers

interface Probe {
  readonly socket: net.Socket;
  readonly data: Buffer;
  readonly error?: string;
}

/**
 * Connects, sends an SSLRequest, and collects the reply: one byte ('S' or
 * 'N'), or a whole ErrorResponse, or whatever came before an error or close.
 * The socket is returned open (after 'S' it is ready for the TLS handshake).
 */
function sslProbe(options: net.NetConnectOpts, timeoutMs = 3000): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ socket, data, ...(error === undefined ? {} : { error }) });
    };
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      const first = data.readUInt8(0);
      if (first === 0x53 || first === 0x4e) {
        socket.pause();
        finish();
      } else if (first === 0x45 && data.length >= 5 && data.length >= 1 + data.readInt32BE(1)) {
        finish();
      }
    };
    socket.on('data', onData);
    socket.on('connect', () => socket.write(SSL_REQUEST));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on('close', () => finish('closed'));
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
  });
}

/** The reply to an SSLRequest, the socket closed afterwards. */
async function sslReply(options: net.NetConnectOpts): Promise<Probe> {
  const probe = await sslProbe(options);
  probe.socket.destroy();
  return probe;
}

/** Parses exactly one ErrorResponse: 'E', Int32 length, ([code][cstring])* 0. */
function parseErrorResponse(message: Buffer): Record<string, string> {
  assert.ok(message.length >= 6, `an ErrorResponse, got ${inspect(message)}`);
  assert.equal(String.fromCharCode(message.readUInt8(0)), 'E', `got ${inspect(message)}`);
  const length = message.readInt32BE(1);
  assert.equal(message.length, 1 + length, 'one whole ErrorResponse and nothing more');
  const fields: Record<string, string> = {};
  let offset = 5;
  for (;;) {
    assert.ok(offset < message.length, 'the field list ends with a zero byte');
    const code = message.readUInt8(offset++);
    if (code === 0) break;
    const end = message.indexOf(0, offset);
    assert.ok(end >= 0, 'every field is a cstring');
    fields[String.fromCharCode(code)] = message.toString('utf8', offset, end);
    offset = end + 1;
  }
  assert.equal(offset, message.length, 'nothing after the terminating zero');
  return fields;
}

type Handshake =
  | { readonly ok: true; readonly protocol: string | null }
  | { readonly ok: false; readonly error: string };

/** SSLRequest, then a TLS handshake limited to `maxVersion`. */
async function tlsHandshake(
  port: number,
  ca: string,
  maxVersion: tls.SecureVersion,
): Promise<Handshake> {
  const probe = await sslProbe({ host: '127.0.0.1', port });
  if (probe.data.length !== 1 || probe.data.readUInt8(0) !== 0x53) {
    probe.socket.destroy();
    return { ok: false, error: `no 'S' to the SSLRequest: ${inspect(probe)}` };
  }
  return new Promise((resolve) => {
    const secure = tls.connect({
      socket: probe.socket,
      maxVersion,
      minVersion: 'TLSv1.2',
      ca,
      servername: 'localhost',
    });
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), 5000);
    const done = (result: Handshake): void => {
      clearTimeout(timer);
      secure.destroy();
      probe.socket.destroy();
      resolve(result);
    };
    secure.once('secureConnect', () => done({ ok: true, protocol: secure.getProtocol() }));
    secure.once('error', (error) => done({ ok: false, error: error.message }));
    secure.once('close', () => done({ ok: false, error: 'closed' }));
  });
}

/** A plain TCP connection attempt: 'connected' or the error code. */
function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, 2000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

/** Repeats `attempt` until `done` holds, failing after `timeoutMs`; returns the value and time taken. */
async function poll<T>(
  what: string,
  attempt: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 3000,
  intervalMs = 50,
): Promise<{ value: T; elapsedMs: number }> {
  const start = Date.now();
  for (;;) {
    const value = await attempt();
    const elapsedMs = Date.now() - start;
    if (done(value)) return { value, elapsedMs };
    if (elapsedMs > timeoutMs)
      assert.fail(`${what}: not within ${timeoutMs} ms; last: ${inspect(value, { depth: 4 })}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------- data

/** CSV exactly as COPY ... TO ... CSV writes it back (quoting only where needed). */
function csvRows(count: number): string {
  const lines: string[] = [];
  const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;
  for (let i = 1; i <= count; i++) {
    let label = `row ${i}`;
    if (i % 7 === 0) label = quote(`has,comma ${i}`);
    else if (i % 11 === 0) label = quote(`say "hi" ${i}`);
    else if (i % 13 === 0) label = quote(`line\nbreak ${i}`);
    else if (i % 17 === 0) label = `ünïcødé ✓ ${i}`;
    const note = i % 5 === 0 ? '' : i % 5 === 1 ? '""' : 'x'.repeat((i % 50) + 1);
    const amount = (i * 1.25).toFixed(2);
    const day = new Date(Date.UTC(2024, 0, 1) + (i % 3000) * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${i},${label},${note},${amount},${day}\n`);
  }
  return lines.join('');
}

interface FirewallRuleJson {
  readonly name: string;
  readonly startIpAddress: string;
  readonly endIpAddress: string;
  readonly hitCount: number;
}

// ---------------------------------------------------------------- tests

for (const { pgBin, version } of await testBinarySources()) {
  describe(`gateway with the PostgreSQL command-line clients (${pgBin} PostgreSQL ${version})`, () => {
    const server = TempServer.create(pgBin, (fn) => after(fn));
    const work = mkdtempSync(join(tmpdir(), 'pgw-clients-'));
    after(() => rmSync(work, { recursive: true, force: true }));
    const serverMajor = Number.parseInt(version, 10);
    let adminPassword = '';
    let port = 0;
    let ca = '';

    before(async () => {
      await server.up();
      adminPassword = server.adminPassword();
      port = server.gatewayPort();
      ca = readFileSync(server.caFile, 'utf8');
      const admin = await server.connectAs('pgwarden', adminPassword);
      try {
        await admin.query(`CREATE ROLE ${APP_USER} LOGIN PASSWORD '${APP_PASSWORD}'`);
        for (const db of ['clients', 'bench', 'dumpsrc'])
          await admin.query(`CREATE DATABASE ${db}`);
      } finally {
        await admin.end();
      }
    });

    /** psql through the gateway: verify-full TLS and channel_binding=require unless `extra` says otherwise. */
    const psql = (
      file: string,
      user: string,
      password: string,
      args: readonly string[],
      options: { database?: string; conninfo?: string } = {},
    ): Promise<RunResult> =>
      run(
        file,
        [
          '-X',
          '-w',
          '-v',
          'ON_ERROR_STOP=1',
          '-d',
          options.conninfo ??
            server.conninfo(user, options.database ?? 'postgres', 'channel_binding=require'),
          ...args,
        ],
        libpqEnv(password),
      );

    const plaintextConninfo = (user: string): string =>
      `host=localhost port=${port} user=${user} dbname=postgres sslmode=disable`;

    /** Environment for pgbench, pg_dump, pg_restore: the same verify-full + channel binding. */
    const adminEnv = (database: string): NodeJS.ProcessEnv =>
      libpqEnv(adminPassword, {
        PGHOST: 'localhost',
        PGPORT: String(port),
        PGUSER: 'pgwarden',
        PGDATABASE: database,
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: server.caFile,
        PGCHANNELBINDING: 'require',
      });

    const readEvents = (): Record<string, unknown>[] => {
      let text = '';
      try {
        text = readFileSync(server.layout.gatewayEvents, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    };

    const listRules = async (): Promise<FirewallRuleJson[]> => {
      const result = await server.cli(['firewall-rule', 'list', '--json']);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as FirewallRuleJson[];
    };

    it('psql with verify-full and channel_binding=require runs queries over TLS 1.3', async (t) => {
      const file = need(t, 'psql');
      if (file === undefined) return;
      for (const [user, password] of [
        [APP_USER, APP_PASSWORD],
        ['pgwarden', adminPassword],
      ] as const) {
        const result = await psql(file, user, password, [
          '-At',
          '-c',
          'SELECT current_user',
          '-c',
          "SELECT 6 * 7, current_setting('server_encoding')",
          '-c',
          '\\conninfo',
        ]);
        assert.equal(result.code, 0, result.stderr);
        const lines = result.stdout.split('\n');
        assert.equal(lines[0], user);
        assert.equal(lines[1], '42|UTF8');
        assert.match(
          result.stdout,
          new RegExp(
            `You are connected to database "postgres" as user "${user}" on host "localhost"`,
          ),
        );
        assert.match(result.stdout, /^SSL connection \(protocol: TLSv1\.3, cipher: /m);
      }
      // The gateway saw SCRAM-SHA-256-PLUS bound to the TLS channel.
      await poll(
        'auth.succeeded event with channel binding',
        async () => readEvents(),
        (events) =>
          events.some(
            (e) =>
              e.event === 'auth.succeeded' &&
              e.user === APP_USER &&
              e.applicationName === 'psql' &&
              e.detail === 'TLSv1.3, channel binding',
          ),
      );
    });

    it('psql \\copy moves 10k rows in and out unchanged', async (t) => {
      const file = need(t, 'psql');
      if (file === undefined) return;
      const input = join(work, 'in.csv');
      const output = join(work, 'out.csv');
      const csv = csvRows(10_000);
      writeFileSync(input, csv);
      const result = await psql(
        file,
        'pgwarden',
        adminPassword,
        [
          '-c',
          'CREATE TABLE copy_t (id int PRIMARY KEY, label text NOT NULL, note text, amount numeric(12,2), day date)',
          '-c',
          `\\copy copy_t FROM '${input}' CSV`,
          '-c',
          `\\copy copy_t TO '${output}' CSV`,
          '-At',
          '-c',
          "SELECT count(*), count(note), count(*) FILTER (WHERE note = ''), sum(amount) FROM copy_t",
        ],
        { database: 'clients' },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.match(/^COPY 10000$/gm)?.length, 2, result.stdout);
      // 2000 NULLs (i % 5 === 0), 2000 empty strings (i % 5 === 1); sum of 1.25 * i.
      assert.match(result.stdout, /^10000\|8000\|2000\|62506250\.00$/m);
      // COPY TO writes heap order, which COPY FROM's batched inserts need not keep: compare the
      // records (each starts with its id at the start of a line; embedded newlines never do).
      const back = readFileSync(output, 'utf8');
      assert.equal(back.length, csv.length);
      const records = (text: string): string[] =>
        text
          .split(/(?<=\n)(?=\d+,)/)
          .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
      const wrote = records(csv);
      const read = records(back);
      assert.equal(read.length, 10_000);
      const differs = wrote.findIndex((record, i) => record !== read[i]);
      assert.equal(
        differs,
        -1,
        `record ${inspect(wrote[differs])} read back as ${inspect(read[differs])}`,
      );
    });

    it('pgbench initialises and runs with prepared, simple and per-transaction connections', async (t) => {
      const file = need(t, 'pgbench');
      if (file === undefined) return;
      const env = adminEnv('bench');
      const init = await run(file, ['-i', '-s', '1'], env, 180_000);
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stderr, /done in /);
      const runs: [string[], number][] = [
        [['-S', '-c', '4', '-j', '2', '-t', '200', '-M', 'prepared'], 800],
        [['-S', '-c', '4', '-j', '2', '-t', '200', '-M', 'simple'], 800],
        [['-C', '-c', '2', '-t', '20'], 40],
      ];
      for (const [args, transactions] of runs) {
        const result = await run(file, ['-n', ...args], env, 180_000);
        const what = `pgbench ${args.join(' ')}\n${result.stdout}\n${result.stderr}`;
        assert.equal(result.code, 0, what);
        assert.match(result.stdout, /^number of failed transactions: 0 \(0\.000%\)$/m, what);
        assert.match(
          result.stdout,
          new RegExp(
            `^number of transactions actually processed: ${transactions}/${transactions}$`,
            'm',
          ),
          what,
        );
      }
    });

    it('pg_dump -Fc and pg_restore into a new database keep every row', async (t) => {
      const dump = need(t, 'pg_dump');
      const restore = need(t, 'pg_restore');
      if (dump === undefined || restore === undefined) return;
      const dumpMajor = await toolMajor(dump);
      if (dumpMajor < serverMajor) {
        t.skip(`pg_dump ${dumpMajor} cannot dump a PostgreSQL ${serverMajor} server`);
        return;
      }
      const src = await server.connectAs('pgwarden', adminPassword, 'dumpsrc');
      try {
        await src.query(`
          CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL UNIQUE,
                              price numeric(10,2) NOT NULL CHECK (price >= 0));
          CREATE TABLE orders (id bigserial PRIMARY KEY, item_id int NOT NULL REFERENCES items (id),
                               qty int NOT NULL, note jsonb);
          CREATE INDEX orders_item_idx ON orders (item_id);
          CREATE VIEW order_totals AS
            SELECT i.name, sum(o.qty * i.price) AS total
              FROM orders o JOIN items i ON i.id = o.item_id GROUP BY i.name;
          CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM items';
          COMMENT ON TABLE items IS 'the catalogue';
          INSERT INTO items (name, price) SELECT 'item ' || g, g * 0.5 FROM generate_series(1, 500) g;
          INSERT INTO orders (item_id, qty, note)
            SELECT 1 + g % 500, g % 7 + 1, jsonb_build_object('n', g) FROM generate_series(1, 3000) g;
        `);
        await src.query('CREATE DATABASE dumpdst');
      } finally {
        await src.end();
      }
      const archive = join(work, 'dumpsrc.dump');
      const dumped = await run(dump, ['-Fc', '-f', archive], adminEnv('dumpsrc'), 120_000);
      assert.equal(dumped.code, 0, dumped.stderr);
      assert.equal(readFileSync(archive).subarray(0, 5).toString('latin1'), 'PGDMP');
      const restored = await run(
        restore,
        ['--exit-on-error', '-d', 'dumpdst', archive],
        adminEnv('dumpdst'),
        120_000,
      );
      assert.equal(restored.code, 0, restored.stderr);

      const summary = async (database: string): Promise<Record<string, unknown>> => {
        const client = await server.connectAs('pgwarden', adminPassword, database);
        try {
          const r = await client.query(`
            SELECT (SELECT count(*) FROM items)::int AS items,
                   (SELECT count(*) FROM orders)::int AS orders,
                   (SELECT md5(string_agg(i::text, ',' ORDER BY id)) FROM items i) AS items_md5,
                   (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o) AS orders_md5,
                   (SELECT sum(total)::text FROM order_totals) AS total,
                   item_count()::int AS fn,
                   (SELECT last_value::int FROM items_id_seq) AS seq,
                   obj_description('items'::regclass, 'pg_class') AS comment,
                   (SELECT count(*)::int FROM pg_indexes WHERE tablename IN ('items', 'orders')) AS indexes`);
          return r.rows[0] as Record<string, unknown>;
        } finally {
          await client.end();
        }
      };
      const before_ = await summary('dumpsrc');
      assert.equal(before_.items, 500);
      assert.equal(before_.orders, 3000);
      assert.equal(before_.indexes, 4);
      assert.deepEqual(await summary('dumpdst'), before_);
    });

    it('refuses plaintext, bad passwords, unknown and internal roles, and MD5 verifiers', async (t) => {
      const file = need(t, 'psql');
      if (file === undefined) return;
      const query = ['-At', '-c', 'SELECT 1'];

      const plaintext = await psql(file, APP_USER, APP_PASSWORD, query, {
        conninfo: plaintextConninfo(APP_USER),
      });
      assert.equal(plaintext.code, 2, plaintext.stderr);
      assert.ok(plaintext.stderr.includes(PLAINTEXT_REFUSAL), plaintext.stderr);
      assert.equal(plaintext.stdout, '');

      const wrongPassword = await psql(file, APP_USER, 'not-the-password', query);
      const unknownUser = await psql(file, 'ghost', APP_PASSWORD, query);
      const internal = await psql(file, 'pgwarden_su', 'anything-at-all', query);
      for (const [result, user] of [
        [wrongPassword, APP_USER],
        [unknownUser, 'ghost'],
        [internal, 'pgwarden_su'],
      ] as const) {
        assert.equal(result.code, 2, result.stderr);
        assert.ok(
          result.stderr.includes(`FATAL:  password authentication failed for user "${user}"`),
          result.stderr,
        );
        assert.ok(!result.stderr.includes('HINT:'), result.stderr);
      }
      // Nothing tells an existing role from an unknown or internal one.
      const normalised = (stderr: string, user: string) => stderr.replaceAll(`"${user}"`, '"X"');
      assert.equal(
        normalised(unknownUser.stderr, 'ghost'),
        normalised(wrongPassword.stderr, APP_USER),
      );
      assert.equal(
        normalised(internal.stderr, 'pgwarden_su'),
        normalised(wrongPassword.stderr, APP_USER),
      );

      const su = await server.superuser();
      try {
        await su.query("SET password_encryption = 'md5'");
        await su.query(`CREATE ROLE legacy LOGIN PASSWORD '${LEGACY_PASSWORD}'`);
        await su.query('RESET password_encryption');
        const stored = await su.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'legacy'");
        assert.match(stored.rows[0].rolpassword, /^md5[0-9a-f]{32}$/);
        const legacy = await psql(file, 'legacy', LEGACY_PASSWORD, query);
        assert.equal(legacy.code, 2, legacy.stderr);
        assert.ok(
          legacy.stderr.includes('FATAL:  password authentication failed for user "legacy"'),
          legacy.stderr,
        );
        assert.ok(legacy.stderr.includes(MD5_HINT), legacy.stderr);
        // Following the hint lets the role in.
        await su.query(`ALTER ROLE legacy PASSWORD '${LEGACY_PASSWORD}'`);
        const again = await psql(file, 'legacy', LEGACY_PASSWORD, [
          '-At',
          '-c',
          'SELECT current_user',
        ]);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(again.stdout.trim(), 'legacy');
      } finally {
        await su.end();
      }
    });

    it('applies ssl_min_protocol_version and require_secure_transport without a restart', async (t) => {
      const supervisor = server.supervisorPid();
      assert.ok(supervisor !== undefined, 'a supervisor runs');
      const tls13 = await tlsHandshake(port, ca, 'TLSv1.3');
      assert.deepEqual(tls13, { ok: true, protocol: 'TLSv1.3' });
      const tls12 = await tlsHandshake(port, ca, 'TLSv1.2');
      assert.equal(tls12.ok, false, 'TLS 1.2 is refused by default');

      try {
        const set = await server.cli(['parameter', 'set', 'ssl_min_protocol_version', 'TLSv1.2']);
        assert.equal(set.code, 0, set.stderr);
        assert.match(set.stdout, /ssl_min_protocol_version: TLSv1\.3 -> TLSv1\.2/);
        const accepted = await poll(
          'a TLS 1.2 handshake',
          () => tlsHandshake(port, ca, 'TLSv1.2'),
          (h) => h.ok,
        );
        assert.deepEqual(accepted.value, { ok: true, protocol: 'TLSv1.2' });
      } finally {
        const reset = await server.cli(['parameter', 'reset', 'ssl_min_protocol_version']);
        assert.equal(reset.code, 0, reset.stderr);
      }
      await poll(
        'TLS 1.2 refused again',
        () => tlsHandshake(port, ca, 'TLSv1.2'),
        (h) => !h.ok,
      );

      const file = need(t, 'psql');
      if (file === undefined) return;
      const plaintext = () =>
        psql(
          file,
          APP_USER,
          APP_PASSWORD,
          ['-At', '-c', 'SELECT current_user', '-c', '\\conninfo'],
          {
            conninfo: plaintextConninfo(APP_USER),
          },
        );
      try {
        const off = await server.cli(['parameter', 'set', 'require_secure_transport', 'off']);
        assert.equal(off.code, 0, off.stderr);
        const admitted = await poll('plaintext psql admitted', plaintext, (r) => r.code === 0);
        assert.equal(admitted.value.stdout.split('\n')[0], APP_USER);
        assert.doesNotMatch(admitted.value.stdout, /SSL connection/);
      } finally {
        const on = await server.cli(['parameter', 'set', 'require_secure_transport', 'on']);
        assert.equal(on.code, 0, on.stderr);
      }
      const refused = await poll('plaintext psql refused again', plaintext, (r) => r.code !== 0);
      assert.equal(refused.value.code, 2);
      assert.ok(refused.value.stderr.includes(PLAINTEXT_REFUSAL), refused.value.stderr);
      assert.equal(server.supervisorPid(), supervisor, 'no restart');
    });

    it('starts with exactly the two localhost firewall rules', async () => {
      const rules = await listRules();
      assert.deepEqual(
        rules.map((r) => [r.name, r.startIpAddress, r.endIpAddress]),
        [
          ['AllowLocalhostIPv4', '127.0.0.1', '127.0.0.1'],
          ['AllowLocalhostIPv6', '::1', '::1'],
        ],
      );
    });

    it('denies an address without a rule, and admits it once a rule is created, until deleted', async () => {
      const supervisor = server.supervisorPid();
      assert.ok(supervisor !== undefined, 'a supervisor runs');
      const fromSecond = { host: '127.0.0.1', port, localAddress: '127.0.0.2' };
      const denied = await sslReply(fromSecond);
      const fields = parseErrorResponse(denied.data);
      assert.equal(fields.S, 'FATAL');
      assert.equal(fields.C, '28000');
      assert.equal(fields.M, 'no firewall rule allows host "127.0.0.2"');
      // The loopback address the default rule allows is admitted meanwhile.
      const local = await sslReply({ host: '127.0.0.1', port });
      assert.equal(local.data.toString('latin1'), 'S');

      let created = false;
      try {
        const create = await server.cli([
          'firewall-rule',
          'create',
          '--name',
          'second',
          '--start-ip-address',
          '127.0.0.2',
          '--end-ip-address',
          '127.0.0.2',
        ]);
        assert.equal(create.code, 0, create.stderr);
        created = true;
        assert.equal(create.stderr, '', 'no warning for a one-address rule');
        await poll(
          "'S' for 127.0.0.2",
          () => sslReply(fromSecond),
          (p) => p.data.toString('latin1') === 'S',
        );
        const counted = await poll(
          'hit counted for rule "second"',
          listRules,
          (rules) => (rules.find((r) => r.name === 'second')?.hitCount ?? 0) >= 1,
          4000,
          250,
        );
        const rule = counted.value.find((r) => r.name === 'second');
        assert.equal(rule?.startIpAddress, '127.0.0.2');
        assert.equal(rule?.endIpAddress, '127.0.0.2');

        const remove = await server.cli(['firewall-rule', 'delete', '--name', 'second']);
        assert.equal(remove.code, 0, remove.stderr);
        created = false;
      } finally {
        if (created) await server.cli(['firewall-rule', 'delete', '--name', 'second']);
      }
      const deniedAgain = await poll(
        '127.0.0.2 denied again',
        () => sslReply(fromSecond),
        (p) => p.data.length > 0 && p.data.readUInt8(0) === 0x45,
      );
      assert.equal(
        parseErrorResponse(deniedAgain.value.data).M,
        'no firewall rule allows host "127.0.0.2"',
      );
      assert.equal(server.supervisorPid(), supervisor, 'no restart');
      assert.equal((await listRules()).length, 2);
    });

    it('validates firewall rules on the command line', async () => {
      const duplicate = await server.cli([
        'firewall-rule',
        'create',
        '--name',
        'AllowLocalhostIPv4',
        '--start-ip-address',
        '127.0.0.1',
        '--end-ip-address',
        '127.0.0.1',
      ]);
      assert.equal(duplicate.code, 1);
      assert.match(duplicate.stderr, /\(PGW_FIREWALL_RULE_EXISTS\)/);

      const bad = await server.cli([
        'firewall-rule',
        'create',
        '--name',
        'bad',
        '--start-ip-address',
        '300.1.2.3',
        '--end-ip-address',
        '300.1.2.3',
      ]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /\(PGW_FIREWALL_RULE_INVALID\)/);

      try {
        const cidr = await server.cli([
          'firewall-rule',
          'create',
          '--name',
          'ten',
          '--cidr',
          '10.0.0.0/8',
          '--json',
        ]);
        assert.equal(cidr.code, 0, cidr.stderr);
        const rule = JSON.parse(cidr.stdout) as FirewallRuleJson;
        assert.equal(rule.name, 'ten');
        assert.equal(rule.startIpAddress, '10.0.0.0');
        assert.equal(rule.endIpAddress, '10.255.255.255');
        assert.equal(rule.hitCount, 0);

        const open = await server.cli([
          'firewall-rule',
          'create',
          '--name',
          'everyone',
          '--start-ip-address',
          '0.0.0.0',
          '--end-ip-address',
          '255.255.255.255',
        ]);
        assert.equal(open.code, 0, open.stderr);
        assert.match(
          open.stderr,
          /^pgwarden: warning: rule allows every IPv4 address: the server is open to the whole internet$/m,
        );
      } finally {
        await server.cli(['firewall-rule', 'delete', '--name', 'ten']);
        await server.cli(['firewall-rule', 'delete', '--name', 'everyone']);
      }
      assert.deepEqual(
        (await listRules()).map((r) => r.name),
        ['AllowLocalhostIPv4', 'AllowLocalhostIPv6'],
      );
    });

    it('listens on every interface with public access, on loopback only without', async () => {
      const supervisor = server.supervisorPid();
      assert.ok(supervisor !== undefined, 'a supervisor runs');
      assert.equal(await tcpConnect('127.0.0.2', port), 'ECONNREFUSED', 'loopback listener only');
      try {
        const enable = await server.cli(['network', 'public-access', 'enable']);
        assert.equal(enable.code, 0, enable.stderr);
        assert.match(enable.stdout, /^public access: enabled/);
        await poll(
          'a listener on 127.0.0.2',
          () => tcpConnect('127.0.0.2', port),
          (r) => r === 'connected',
          5000,
        );
        // It is the gateway that answers there (the source is 127.0.0.1, which a rule allows).
        const reply = await sslReply({ host: '127.0.0.2', port });
        assert.equal(reply.data.toString('latin1'), 'S');
      } finally {
        const disable = await server.cli(['network', 'public-access', 'disable']);
        assert.equal(disable.code, 0, disable.stderr);
        assert.match(
          disable.stdout,
          /^public access: disabled \(the gateway listens on 127\.0\.0\.1/,
        );
      }
      await poll(
        '127.0.0.2 refused again',
        () => tcpConnect('127.0.0.2', port),
        (r) => r === 'ECONNREFUSED',
        5000,
      );
      // Back on loopback, on the same port.
      const local = await sslReply({ host: '127.0.0.1', port });
      assert.equal(local.data.toString('latin1'), 'S');
      assert.equal(server.supervisorPid(), supervisor, 'no restart');
    });
  });
}
