import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { readJsonLines } from '../helpers/json-lines.js';
import { socketFrom } from '../helpers/loopback-socket.js';
import { poll } from '../helpers/poll.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 7 (login attacks and the response): each attack played against a
 * real gateway, asserting the `alert.raised` events it leaves in the
 * gateway's events file; the login throttle; response actions; and a
 * benign workload (pgbench, app sessions with a typo) that raises nothing.
 * Linux routes all of 127.0.0.0/8 to lo, so each scenario connects from its
 * own loopback address.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

type Rec = Record<string, unknown> & { event: string; address?: string; session?: string };
type AlertRec = Rec & { alert: { type: string; key: string; severity: string; evidence: number } };

interface PgError {
  code?: string;
  message: string;
}

const GOOD = 'Correct-Horse-Battery-9';
/** Wrong passwords the tests send: none may reach the events file. */
const WRONG = ['Wrong-Guess-0001', 'Wrong-Guess-0002', 'Wrong-Guess-0003'] as const;
const wrong = (i: number): string => WRONG[i % WRONG.length] as string;

const readEvents = (file: string): Rec[] => readJsonLines<Rec>(file);

const isAlert = (e: Rec): e is AlertRec => e.event === 'alert.raised';

/** `promise`, or a failure naming `what` after `timeoutMs` (a test must not hang). */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What every scenario needs: logins from an address, and the events file. */
function harness(server: TempServer, clients: pg.Client[]) {
  const connect = async (
    from: string,
    user: string,
    password: string,
    applicationName?: string,
  ): Promise<pg.Client> => {
    const client = new pg.Client({
      ...server.gatewayClientConfig(user, password),
      ...(applicationName === undefined ? {} : { application_name: applicationName }),
      stream: () => socketFrom(from),
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };
  /** A login that must fail; returns the error. */
  const refused = async (
    from: string,
    user: string,
    password: string,
    applicationName?: string,
  ): Promise<PgError> =>
    connect(from, user, password, applicationName).then(
      () => assert.fail(`login as ${user} from ${from} succeeded`),
      (error: unknown) => error as PgError,
    );
  let sentinels = 0;
  /**
   * Waits until every event so far is in the file: events are appended in
   * order, so once a new login's event is there, everything before it is.
   */
  const settle = async (): Promise<Rec[]> => {
    const name = `sentinel-${++sentinels}`;
    const client = await connect('127.0.0.1', 'pgwarden', server.adminPassword(), name);
    await client.end();
    return poll(
      `${name} in the events file`,
      () => readEvents(server.layout.gatewayEvents),
      (events) => events.some((e) => e.event === 'auth.succeeded' && e.applicationName === name),
    );
  };
  const alerts = (events: readonly Rec[], type: string, key?: string): AlertRec[] =>
    events
      .filter(isAlert)
      .filter((e) => e.alert.type === type && (key === undefined || e.alert.key === key));
  return { connect, refused, settle, alerts };
}

describe(`login attack detection through the gateway (${pgBin})`, () => {
  const clients: pg.Client[] = [];
  // Registered first, so it runs before the server is torn down.
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const { connect, refused, settle, alerts } = harness(server, clients);

  before(async () => {
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(
      server.layout.configFile,
      [
        'detection:',
        '  throttle:',
        '    failures: 4',
        '    windowSeconds: 300',
        '    blockSeconds: 2',
        "    exemptRanges: ['127.0.0.16/28']",
        '  bruteForce:',
        '    sourceFailures: 5',
        '    userFailures: 7',
        '    unknownUserFailures: 3',
        '    distributedSources: 4',
        '    successAfterFailures: 3',
        '    windowSeconds: 300',
        "  harmfulApplications: ['evil-scanner*']",
        '  responses:',
        '    login.harmful-application: { terminateSession: true }',
        '    brute-force.unknown-user: { blockSourceSeconds: 600 }',
        '',
      ].join('\n'),
    );
    await server.up();
    const su = await server.superuser();
    try {
      for (const role of [
        'src_role',
        'victim_user',
        'victim_dist',
        'victim_ok',
        'app_user',
        'thr_role',
        'resp_role',
      ])
        await su.query(`CREATE ROLE ${role} LOGIN PASSWORD '${GOOD}'`);
    } finally {
      await su.end();
    }
    const rule = await server.cli([
      'firewall-rule',
      'create',
      '--name',
      'lo',
      '--cidr',
      '127.0.0.0/8',
    ]);
    assert.equal(rule.code, 0, rule.stderr);
    // Firewall rules reach the gateway by NOTIFY: wait until a second loopback address gets in.
    await poll(
      '127.0.0.0/8 admitted',
      () =>
        connect('127.0.0.2', 'pgwarden', server.adminPassword()).then(
          (c) => c.end().then(() => true),
          () => false,
        ),
      (ok) => ok,
    );
  });

  it('brute-force.source: one alert for failed logins from one address; an exempt address is not throttled', async () => {
    const from = '127.0.0.17'; // exempt from throttling, still watched by detection
    for (let i = 0; i < 6; i++) {
      const error = await refused(from, 'src_role', wrong(i));
      assert.equal(error.code, '28P01', `attempt ${i + 1}: ${error.message}`);
    }
    const events = await settle();
    const raised = alerts(events, 'brute-force.source', from);
    assert.equal(raised.length, 1, 'once per crossing, not once per further failure');
    const [alert] = raised;
    assert.equal(alert?.address, from);
    assert.equal(alert?.alert.severity, 'high');
    assert.equal(alert?.alert.evidence, 5, 'the failures that crossed the threshold');
    assert.match(String(alert?.detail), /^5 failed logins from 127\.0\.0\.17 within 300 s$/);
    // The alert comes right after the fifth failure, and the evidence events are there.
    const failures = events.filter((e) => e.event === 'auth.failed' && e.address === from);
    assert.equal(failures.length, 6);
    assert.ok(failures.every((e) => e.user === 'src_role' && e.detail !== undefined));
    const fifth = events.indexOf(failures[4] as Rec);
    assert.equal(events[fifth + 1], alert);
    assert.equal(alerts(events, 'brute-force.user', 'src_role').length, 0, 'below userFailures');
    assert.equal(
      events.filter((e) => e.event === 'connection.throttled' && e.address === from).length,
      0,
      'an exempt address is never throttled',
    );
  });

  it('brute-force.unknown-user: failed logins for roles that do not exist; no response on an exempt address', async () => {
    const from = '127.0.0.18';
    for (const ghost of ['ghost_admin', 'ghost_root', 'ghost_oracle']) {
      const error = await refused(from, ghost, wrong(0));
      assert.equal(error.code, '28P01', 'the same answer as a wrong password');
    }
    let events = await settle();
    const raised = alerts(events, 'brute-force.unknown-user', from);
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.alert.evidence, 3);
    assert.equal(raised[0]?.alert.severity, 'medium');
    assert.match(String(raised[0]?.detail), /roles that do not exist from 127\.0\.0\.18/);
    const response = events.filter((e) => e.event === 'alert.response' && e.address === from);
    assert.deepEqual(
      response.map((e) => e.detail),
      ['no action: 127.0.0.18 is in detection.throttle.exemptRanges'],
    );
    // Not blocked: a login still gets as far as its password.
    assert.equal((await refused(from, 'resp_role', wrong(1))).code, '28P01');
    events = await settle();
    assert.equal(
      alerts(events, 'brute-force.unknown-user', from).length,
      1,
      'an existing role does not count',
    );
  });

  it('a response blocks the source of an alert: new connections get 53300', async () => {
    const from = '127.0.0.4';
    for (const ghost of ['ghost_a', 'ghost_b', 'ghost_c'])
      assert.equal((await refused(from, ghost, wrong(2))).code, '28P01');
    const blocked = await refused(from, 'resp_role', GOOD);
    assert.equal(blocked.code, '53300');
    assert.match(
      blocked.message,
      /^connections from 127\.0\.0\.4 are temporarily blocked for \d+ s$/,
    );
    const events = await settle();
    assert.equal(alerts(events, 'brute-force.unknown-user', from).length, 1);
    const response = events.filter((e) => e.event === 'alert.response' && e.address === from);
    assert.deepEqual(
      response.map((e) => e.detail),
      ['blocked 127.0.0.4 for 600 s'],
    );
    const throttled = events.filter(
      (e) => e.event === 'connection.throttled' && e.address === from,
    );
    assert.equal(throttled.length, 1);
    assert.equal(throttled[0]?.code, 1002);
    assert.equal(throttled[0]?.user, 'resp_role');
    assert.match(String(throttled[0]?.detail), /alert brute-force\.unknown-user \(127\.0\.0\.4\)/);
    // Refused before authentication: no login event for it.
    assert.equal(
      events.filter((e) => e.session === throttled[0]?.session && e.event.startsWith('auth.'))
        .length,
      0,
    );
  });

  it('brute-force.user: failed logins for one existing role from several addresses', async () => {
    const plan = [
      '127.0.0.19',
      '127.0.0.19',
      '127.0.0.19',
      '127.0.0.20',
      '127.0.0.20',
      '127.0.0.20',
      '127.0.0.21',
    ];
    for (const [i, from] of plan.entries())
      assert.equal((await refused(from, 'victim_user', wrong(i))).code, '28P01');
    const events = await settle();
    const raised = alerts(events, 'brute-force.user', 'victim_user');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.user, 'victim_user');
    assert.equal(raised[0]?.address, 'local', 'about a role, not one address');
    assert.equal(raised[0]?.alert.evidence, 7);
    assert.equal(
      alerts(events, 'brute-force.distributed', 'victim_user').length,
      0,
      'three sources',
    );
  });

  it('brute-force.distributed: one role, one failure each from many addresses', async () => {
    const sources = ['127.0.0.22', '127.0.0.23', '127.0.0.24', '127.0.0.25'];
    for (const from of sources)
      assert.equal((await refused(from, 'victim_dist', wrong(0))).code, '28P01');
    const events = await settle();
    const raised = alerts(events, 'brute-force.distributed', 'victim_dist');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.alert.evidence, 4, 'one event per source address');
    assert.match(String(raised[0]?.detail), /for role "victim_dist" from 4 addresses/);
    for (const from of sources)
      assert.equal(alerts(events, 'brute-force.source', from).length, 0, `${from} alone is below`);
    assert.equal(alerts(events, 'brute-force.user', 'victim_dist').length, 0);
  });

  it('brute-force.success: a login after a run of failures, with the failures and the login as evidence', async () => {
    const from = '127.0.0.26';
    for (let i = 0; i < 3; i++)
      assert.equal((await refused(from, 'victim_ok', wrong(i))).code, '28P01');
    const client = await connect(from, 'victim_ok', GOOD);
    await client.end();
    const events = await settle();
    const raised = alerts(events, 'brute-force.success', 'victim_ok');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.alert.severity, 'critical');
    assert.equal(raised[0]?.address, from);
    assert.equal(raised[0]?.alert.evidence, 4, 'three failures and the success');
    const login = events.find((e) => e.event === 'auth.succeeded' && e.address === from);
    assert.equal(events[events.indexOf(login as Rec) + 1], raised[0], 'raised by that login');
  });

  it('login.harmful-application: a tool by name is detected and its session ended (57P01)', async () => {
    const from = '127.0.0.6';
    const ended = new Promise<PgError>((resolve) => {
      const client = new pg.Client({
        ...server.gatewayClientConfig('app_user', GOOD),
        application_name: 'sqlmap/1.8.2#stable (https://sqlmap.org)',
        stream: () => socketFrom(from),
      });
      clients.push(client);
      client.on('error', (error) => resolve(error as PgError));
      client.connect().catch((error: unknown) => resolve(error as PgError));
    });
    const error = await within(ended, 10_000, 'the session to be ended');
    assert.equal(error.code, '57P01');
    assert.equal(error.message, 'terminating connection because of a security alert');
    const events = await settle();
    const raised = alerts(events, 'login.harmful-application', `sqlmap@${from}`);
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.user, 'app_user');
    assert.equal(raised[0]?.alert.evidence, 1);
    assert.match(String(raised[0]?.detail), /^login by sqlmap \(application_name "sqlmap\/1\.8\.2/);
    const login = events.find((e) => e.event === 'auth.succeeded' && e.address === from);
    assert.ok(login?.session, 'the login event names its session');
    const response = events.find((e) => e.event === 'alert.response' && e.address === from);
    assert.equal(response?.session, login?.session);
    assert.equal(response?.detail, `ended 1 session ${login?.session}`);
    const revoked = events.find(
      (e) => e.event === 'session.revoked' && e.session === login?.session,
    );
    assert.ok(revoked, 'the gateway recorded the end of that session');
  });

  it('login.harmful-application: configured globs, case-insensitively, on a failed login', async () => {
    const from = '127.0.0.7';
    assert.equal((await refused(from, 'app_user', wrong(0), 'Evil-Scanner 2.0')).code, '28P01');
    assert.equal((await refused(from, 'app_user', wrong(1), 'Evil-Scanner 2.0')).code, '28P01');
    const events = await settle();
    const raised = alerts(events, 'login.harmful-application', `config "evil-scanner*"@${from}`);
    assert.equal(raised.length, 1, 'the second attempt within a minute is no new alert');
    const response = events.find((e) => e.event === 'alert.response' && e.address === from);
    assert.match(String(response?.detail), /^no live session [0-9a-f]+ to end$/);
  });

  it('throttling: a brute-forcing address is refused with 53300, then released after blockSeconds', async () => {
    const from = '127.0.0.3';
    for (let i = 0; i < 4; i++)
      assert.equal((await refused(from, 'thr_role', wrong(i))).code, '28P01');
    // Even the right password is refused now, before authentication.
    const blocked = await refused(from, 'thr_role', GOOD);
    assert.equal(blocked.code, '53300');
    assert.match(
      blocked.message,
      /^too many failed logins from 127\.0\.0\.3: temporarily blocked for [12] s$/,
    );
    // Other addresses are not affected.
    await (await connect('127.0.0.5', 'thr_role', GOOD)).end();
    // blockSeconds is 2: the address gets in again once the block ends.
    const released = await poll(
      'a login from 127.0.0.3 after the block',
      () =>
        connect(from, 'thr_role', GOOD).then(
          (c) => c.end().then(() => 'ok'),
          (e: PgError) => e.code,
        ),
      (result) => result !== '53300',
      15_000,
      250,
    );
    assert.equal(released, 'ok');
    const events = await settle();
    const throttled = events.filter(
      (e) => e.event === 'connection.throttled' && e.address === from,
    );
    assert.ok(throttled.length >= 1);
    assert.match(String(throttled[0]?.detail), /^blocked until .*: 4 failed logins within 300 s$/);
  });

  it('never writes a password to the events file', async () => {
    const text = readFileSync(server.layout.gatewayEvents, 'utf8');
    for (const password of [...WRONG, GOOD]) assert.ok(!text.includes(password), password);
  });
});

describe(`a benign workload raises no alert (${pgBin})`, () => {
  const clients: pg.Client[] = [];
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const { connect, refused, settle } = harness(server, clients);

  before(async () => {
    await server.up(); // the default detection settings
    const su = await server.superuser();
    try {
      await su.query(`CREATE ROLE orders LOGIN PASSWORD '${GOOD}'`);
      await su.query('CREATE DATABASE bench OWNER pgwarden');
    } finally {
      await su.end();
    }
  });

  it('pgbench and app sessions with the odd typo', async () => {
    const pgbench = existsSync('/usr/lib/postgresql/15/bin/pgbench')
      ? '/usr/lib/postgresql/15/bin/pgbench'
      : 'pgbench';
    const env = {
      ...process.env,
      PGHOST: 'localhost',
      PGPORT: String(server.gatewayPort()),
      PGUSER: 'pgwarden',
      PGPASSWORD: server.adminPassword(),
      PGDATABASE: 'bench',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: server.caFile,
    };
    const run = promisify(execFile);
    await run(pgbench, ['-i', '-s', '1', '-q'], { env });
    const bench = await run(pgbench, ['-c', '4', '-j', '2', '-t', '200', '-n'], { env });
    assert.match(bench.stdout, /number of transactions actually processed: 800\/800/);

    // An app: sessions that come and go, a wrong password now and then.
    for (let round = 0; round < 3; round++) {
      if (round < 2)
        assert.equal(
          (await refused('127.0.0.1', 'orders', 'Correct-Horse-Battery-8')).code,
          '28P01',
        );
      for (let i = 0; i < 4; i++) {
        const client = await connect('127.0.0.1', 'orders', GOOD, 'orders-service');
        await client.query('SELECT count(*) FROM pg_class');
        await client.end();
      }
    }
    const events = await settle();
    // The workload was seen: the assertion below could fail.
    assert.equal(events.filter((e) => e.event === 'auth.failed').length, 2);
    assert.ok(
      events.filter((e) => e.event === 'auth.succeeded' && e.applicationName === 'pgbench')
        .length >= 5,
    );
    assert.equal(
      events.filter((e) => e.event === 'auth.succeeded' && e.user === 'orders').length,
      12,
    );
    assert.deepEqual(events.filter(isAlert), [], 'no alert');
    assert.equal(events.filter((e) => e.event === 'connection.throttled').length, 0);
  });
});
