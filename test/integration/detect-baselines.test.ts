import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { readJsonLines } from '../helpers/json-lines.js';
import { socketFrom } from '../helpers/loopback-socket.js';
import { mmdb, writeMmdb } from '../helpers/mmdb-writer.js';
import { poll } from '../helpers/poll.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 7, login baselines: login.new-principal, login.new-network,
 * login.unusual-location, login.unusual-provider (with GeoIP/ASN files built
 * here) and login.suspicious-ip (a blocklist file), played against a real
 * gateway. Alerts are read from the gateway's events file (`alert.raised`).
 * Linux routes all of 127.0.0.0/8 to lo, so logins come from chosen loopback
 * addresses: 127.0.0.x is "home" (DE, AS64500), 127.0.1.x "abroad" (FR,
 * AS64501), 127.0.2.x is on the blocklist.
 *
 * A fresh server learns for LEARNING_DAYS; the test ends learning the way
 * time would, by moving the baselines' first sightings back 30 days in the
 * state database and restarting (baselines are loaded at start).
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

type Rec = Record<string, unknown> & { event: string; address?: string; user?: string };
type AlertRec = Rec & { alert: { type: string; key: string; evidence: number }; detail: string };

const PASSWORD = 'Baseline-Passw0rd-7';
const MY_TYPES = [
  'login.new-principal',
  'login.new-network',
  'login.unusual-location',
  'login.unusual-provider',
  'login.suspicious-ip',
];

const readEvents = (file: string): Rec[] => readJsonLines<Rec>(file);

/** Sends SSLRequest from `localAddress`: 'S' once the firewall admits it (no login, no auth event). */
function admitted(localAddress: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    socket.once('data', (data) => {
      resolve(data.toString('latin1', 0, 1) === 'S');
      socket.destroy();
    });
  });
}

describe(`login baselines, GeoIP and the blocklist through the gateway (${pgBin})`, () => {
  const clients: pg.Client[] = [];
  // Registered first, so it runs before the server is torn down.
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const files = join(server.dataDir, '..');

  const login = async (user: string, from: string, password = PASSWORD): Promise<void> => {
    const client = new pg.Client({
      ...server.gatewayClientConfig(user, password),
      stream: () => socketFrom(from),
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    await client.query('SELECT 1');
    await client.end();
  };
  const refusedLogin = async (user: string, from: string): Promise<void> => {
    await login(user, from, 'Wrong-Passw0rd-1').then(
      () => assert.fail('the wrong password was accepted'),
      (error: { code?: string }) => assert.equal(error.code, '28P01'),
    );
  };

  let sentinels = 0;
  /**
   * Waits until every event so far is in the file (events are appended in
   * order): an administrator login from home, which the baselines know.
   */
  const settle = async (): Promise<Rec[]> => {
    const name = `sentinel-${++sentinels}`;
    const client = new pg.Client({
      ...server.gatewayClientConfig('pgwarden', server.adminPassword()),
      application_name: name,
      stream: () => socketFrom('127.0.0.1'),
    });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    await client.end();
    return poll(
      `${name} in the events file`,
      () => readEvents(server.layout.gatewayEvents),
      (events) => events.some((e) => e.event === 'auth.succeeded' && e.applicationName === name),
    );
  };
  const alerts = (events: readonly Rec[], type?: string, key?: string): AlertRec[] =>
    events.filter(
      (e): e is AlertRec =>
        e.event === 'alert.raised' &&
        MY_TYPES.includes((e as AlertRec).alert.type) &&
        (type === undefined || (e as AlertRec).alert.type === type) &&
        (key === undefined || (e as AlertRec).alert.key === key),
    );
  const describeAlerts = (events: readonly Rec[]): string =>
    JSON.stringify(alerts(events).map((a) => [a.alert.type, a.alert.key]));

  /** The audit log's records, oldest first. */
  const auditRecords = (): Rec[] => {
    const dir = join(server.dataDir, 'audit');
    return readdirSync(dir)
      .filter((f) => /^audit-.*\.jsonl$/.test(f))
      .sort((a, b) => Number(/-(\d+)\.jsonl$/.exec(a)?.[1]) - Number(/-(\d+)\.jsonl$/.exec(b)?.[1]))
      .flatMap((f) => readEvents(join(dir, f)));
  };
  const withState = async <T>(fn: (db: pg.Client) => Promise<T>): Promise<T> => {
    const db = await server.superuser('pgwarden');
    try {
      return await fn(db);
    } finally {
      await db.end();
    }
  };
  const baselineRows = (): Promise<{ kind: string; subject: string; value: string }[]> =>
    withState(
      async (db) =>
        (
          await db.query(
            'SELECT kind, subject, value FROM pgwarden.detection_baselines ORDER BY 1, 2, 3',
          )
        ).rows,
    );
  const hasRow = (
    rows: { kind: string; subject: string; value: string }[],
    kind: string,
    subject: string,
    value = '',
  ): boolean => rows.some((r) => r.kind === kind && r.subject === subject && r.value === value);
  /** Waits for rows (written in batches), then moves every first sighting back 30 days. */
  const endLearning = async (wanted: [string, string, string?][]): Promise<void> => {
    await poll(`baselines ${JSON.stringify(wanted)} written`, baselineRows, (rows) =>
      wanted.every(([kind, subject, value]) => hasRow(rows, kind, subject, value)),
    );
    await withState((db) =>
      db.query(
        "UPDATE pgwarden.detection_baselines SET first_seen = first_seen - interval '30 days'",
      ),
    );
  };
  const restart = async (): Promise<void> => {
    const down = await server.cli(['down']);
    assert.equal(down.code, 0, down.stderr);
    await server.up();
  };

  before(async () => {
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(
      join(files, 'country.mmdb'),
      writeMmdb(
        [
          {
            network: '127.0.0.0/24',
            data: { country: { iso_code: 'DE', names: { en: 'Germany' } } },
          },
          {
            network: '127.0.1.0/24',
            data: { country: { iso_code: 'FR', names: { en: 'France' } } },
          },
        ],
        { databaseType: 'GeoLite2-Country' },
      ),
    );
    writeFileSync(
      join(files, 'asn.mmdb'),
      writeMmdb(
        [
          {
            network: '127.0.0.0/24',
            data: {
              autonomous_system_number: mmdb.uint32(64_500),
              autonomous_system_organization: 'Example DC',
            },
          },
          {
            network: '127.0.1.0/24',
            data: {
              autonomous_system_number: mmdb.uint32(64_501),
              autonomous_system_organization: 'Example Transit',
            },
          },
        ],
        { databaseType: 'GeoLite2-ASN', recordSize: 24 },
      ),
    );
    writeFileSync(
      join(files, 'blocklist.txt'),
      '# test blocklist\n127.0.2.0/24\n\nnot-an-address  # a typo\n',
    );
    writeFileSync(
      server.layout.configFile,
      [
        'detection:',
        `  blocklistFile: ${join(files, 'blocklist.txt')}`,
        '  geoip:',
        `    countryFile: ${join(files, 'country.mmdb')}`,
        `    asnFile: ${join(files, 'asn.mmdb')}`,
        '',
      ].join('\n'),
    );
    await server.up();
    const su = await server.superuser();
    try {
      for (const role of ['alice', 'bob', 'carol', 'dave', 'erin'])
        await su.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
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
    // Rules reach the gateway by NOTIFY; probed from an address no test logs in from.
    await poll(
      '127.0.0.0/8 admitted',
      () => admitted('127.0.3.1', server.gatewayPort()),
      (ok) => ok,
    );
  });

  it('a fresh server learns: first logins, from anywhere, raise no login alert', async () => {
    await login('alice', '127.0.0.1');
    await login('bob', '127.0.0.2');
    await login('bob', '127.0.1.5'); // bob's second network, while learning
    const events = await settle();
    assert.equal(alerts(events).length, 0, describeAlerts(events));
    assert.ok(
      events.some(
        (e) => e.event === 'auth.succeeded' && e.user === 'bob' && e.address === '127.0.1.5',
      ),
    );
    // The malformed blocklist line was reported once, with its line number.
    const log = readFileSync(server.layout.supervisorLog, 'utf8');
    const reported = log
      .split('\n')
      .filter((l) => l.includes('"not-an-address" is not an address'));
    assert.equal(reported.length, 1, log);
    assert.match(
      reported[0] ?? '',
      /blocklist .*blocklist\.txt line 4: "not-an-address" is not an address or CIDR range; skipped/,
    );
  });

  it('keeps what it learns in pgwarden.detection_baselines', async () => {
    const rows = await poll('baselines written', baselineRows, (r) =>
      hasRow(r, 'login.asn', 'role:bob', '64501'),
    );
    for (const [kind, subject, value] of [
      ['login.principal', 'role:alice', ''],
      ['login.principal', 'role:bob', ''],
      ['login.principal', 'role:pgwarden', ''],
      ['login.network', 'role:alice', '127.0.0.0/24'],
      ['login.network', 'role:bob', '127.0.1.0/24'],
      ['login.country', 'role:alice', 'DE'],
      ['login.country', 'role:bob', 'FR'],
      ['login.asn', 'role:alice', '64500'],
    ] as const)
      assert.ok(
        hasRow(rows, kind, subject, value),
        `${kind} ${subject} ${value}: ${JSON.stringify(rows)}`,
      );
    assert.ok(!hasRow(rows, 'login.principal', 'role:carol'), 'carol never logged in');
  });

  describe('after learning', () => {
    let start = 0;
    const since = (events: Rec[]): Rec[] => events.slice(start);

    before(async () => {
      await endLearning([
        ['login.principal', 'role:alice'],
        ['login.network', 'role:alice', '127.0.0.0/24'],
      ]);
      await restart();
      start = readEvents(server.layout.gatewayEvents).length;
    });

    it('a benign workload raises nothing: known roles from their usual networks, again and again', async () => {
      for (let i = 0; i < 3; i++) {
        await login('alice', `127.0.0.${10 + i}`);
        await login('bob', `127.0.0.${20 + i}`);
        await login('bob', `127.0.1.${20 + i}`); // learned while learning
      }
      const events = since(await settle());
      assert.equal(events.filter((e) => e.event === 'auth.succeeded').length, 10);
      assert.equal(alerts(events).length, 0, describeAlerts(events));
    });

    it('login.new-principal: one alert for a role that never logged in, and only that', async () => {
      await login('carol', '127.0.0.30');
      await login('carol', '127.0.0.31');
      const events = since(await settle());
      const raised = alerts(events);
      assert.deepEqual(
        raised.map((a) => [a.alert.type, a.alert.key]),
        [['login.new-principal', 'role:carol']],
      );
      const [alert] = raised;
      assert.equal(alert?.user, 'carol');
      assert.equal(alert?.address, '127.0.0.30');
      assert.equal(alert?.alert.evidence, 1);
      assert.equal(
        alert?.detail,
        'role "carol" logged in from 127.0.0.30: no login in the last 60 days',
      );
    });

    it('login.new-network, unusual-location, unusual-provider: one each for a known role from abroad', async () => {
      const before = alerts(since(readEvents(server.layout.gatewayEvents))).length;
      await login('alice', '127.0.1.5');
      await login('alice', '127.0.1.6');
      const raised = alerts(since(await settle())).slice(before);
      assert.deepEqual(raised.map((a) => [a.alert.type, a.alert.key]).sort(), [
        ['login.new-network', 'role:alice 127.0.1.0/24'],
        ['login.unusual-location', 'role:alice FR'],
        ['login.unusual-provider', 'role:alice 64501'],
      ]);
      for (const alert of raised) {
        assert.equal(alert.user, 'alice');
        assert.equal(alert.address, '127.0.1.5');
      }
      const detail = (type: string): string =>
        raised.find((a) => a.alert.type === type)?.detail ?? '';
      assert.match(
        detail('login.new-network'),
        /from 127\.0\.1\.5, in network 127\.0\.1\.0\/24 it has not used/,
      );
      assert.match(detail('login.unusual-location'), / in FR, a country it has not logged in from/);
      assert.match(detail('login.unusual-provider'), /through AS64501 Example Transit, a provider/);
    });

    it('login.suspicious-ip: one alert per blocklisted address, for logins and attempts alike', async () => {
      const before = alerts(since(readEvents(server.layout.gatewayEvents))).length;
      await login('bob', '127.0.2.9');
      await refusedLogin('bob', '127.0.2.9');
      await login('bob', '127.0.2.9');
      await refusedLogin('dave', '127.0.2.10'); // an attempt is enough
      const raised = alerts(since(await settle())).slice(before);
      assert.deepEqual(raised.map((a) => [a.alert.type, a.alert.key]).sort(), [
        ['login.new-network', 'role:bob 127.0.2.0/24'],
        ['login.suspicious-ip', '127.0.2.10'],
        ['login.suspicious-ip', '127.0.2.9'],
      ]);
      const blocked = raised.find((a) => a.alert.key === '127.0.2.9');
      assert.equal(
        blocked?.detail,
        '127.0.2.9, on the blocklist (127.0.2.0/24), logged in as "bob"',
      );
      assert.match(
        raised.find((a) => a.alert.key === '127.0.2.10')?.detail ?? '',
        /^127\.0\.2\.10, on the blocklist \(127\.0\.2\.0\/24\), tried to log in \(auth\.failed\) as "dave"$/,
      );
    });

    it('baselines survive a restart: known networks and principals stay known', async () => {
      await restart();
      const mark = readEvents(server.layout.gatewayEvents).length;
      await login('alice', '127.0.1.8');
      await login('carol', '127.0.0.32');
      await login('erin', '127.0.0.33'); // never seen: the detector is live after the restart
      const raised = alerts((await settle()).slice(mark));
      assert.deepEqual(
        raised.map((a) => [a.alert.type, a.alert.key]),
        [['login.new-principal', 'role:erin']],
      );
    });

    it('seeds empty baselines from the audit log', async () => {
      // A restart first: stopping writes out every queued sighting, and nobody logs in after
      // it, so the table stays empty once cleared.
      await restart();
      await withState((db) => db.query('DELETE FROM pgwarden.detection_baselines'));
      await restart();
      // Seeded from the audit log's logins, with their times: nobody logged in since the restart.
      const seeded = await poll('the baselines seeded', baselineRows, (rows) =>
        hasRow(rows, 'login.asn', 'role:bob', '64501'),
      );
      for (const [kind, subject, value] of [
        ['login.principal', 'role:carol', ''],
        ['login.principal', 'role:erin', ''],
        ['login.network', 'role:alice', '127.0.1.0/24'],
        ['login.network', 'role:bob', '127.0.2.0/24'],
        ['login.country', 'role:alice', 'FR'],
      ] as const)
        assert.ok(hasRow(seeded, kind, subject, value), `${kind} ${subject} ${value}`);
      assert.ok(!hasRow(seeded, 'login.principal', 'role:dave'), 'dave never logged in');
      const firstLogin = auditRecords().find(
        (r) => r.event === 'auth.succeeded' && r.user === 'alice',
      );
      const aliceSince = await withState(
        async (db) =>
          (
            await db.query<{ first_seen: Date }>(
              "SELECT first_seen FROM pgwarden.detection_baselines WHERE kind = 'login.principal' AND subject = 'role:alice'",
            )
          ).rows[0]?.first_seen,
      );
      assert.ok(firstLogin, "alice's first login is in the audit log");
      assert.equal(
        aliceSince?.getTime(),
        Date.parse(String(firstLogin.time)),
        'first seen: that login',
      );

      // The seeded history is minutes old: learning again. Ended as before.
      await endLearning([
        ['login.principal', 'role:alice'],
        ['login.asn', 'role:bob', '64501'],
      ]);
      await restart();
      const mark = readEvents(server.layout.gatewayEvents).length;
      await login('alice', '127.0.1.9');
      await login('carol', '127.0.0.34');
      await login('dave', '127.0.0.35');
      const raised = alerts((await settle()).slice(mark));
      assert.deepEqual(
        raised.map((a) => [a.alert.type, a.alert.key]),
        [['login.new-principal', 'role:dave']],
      );
    });

    it('the alert store holds each of them once, with its evidence', async () => {
      type Row = {
        type: string;
        dedup_key: string;
        count: string;
        evidence: Record<string, string>[];
      };
      const wanted: [string, string, Record<string, string>][] = [
        [
          'login.new-network',
          'role:alice 127.0.1.0/24',
          { address: '127.0.1.5', detail: 'network 127.0.1.0/24; usual: 127.0.0.0/24' },
        ],
        [
          'login.new-network',
          'role:bob 127.0.2.0/24',
          {
            address: '127.0.2.9',
            detail: 'network 127.0.2.0/24; usual: 127.0.1.0/24, 127.0.0.0/24',
          },
        ],
        [
          'login.new-principal',
          'role:carol',
          { address: '127.0.0.30', detail: 'no login in the last 60 days' },
        ],
        [
          'login.new-principal',
          'role:dave',
          { address: '127.0.0.35', detail: 'no login in the last 60 days' },
        ],
        [
          'login.new-principal',
          'role:erin',
          { address: '127.0.0.33', detail: 'no login in the last 60 days' },
        ],
        [
          'login.suspicious-ip',
          '127.0.2.10',
          { address: '127.0.2.10', event: 'auth.failed', detail: 'blocklist line 2: 127.0.2.0/24' },
        ],
        [
          'login.suspicious-ip',
          '127.0.2.9',
          {
            address: '127.0.2.9',
            event: 'auth.succeeded',
            detail: 'blocklist line 2: 127.0.2.0/24',
          },
        ],
        [
          'login.unusual-location',
          'role:alice FR',
          { address: '127.0.1.5', detail: 'country FR; usual: DE' },
        ],
        [
          'login.unusual-provider',
          'role:alice 64501',
          { address: '127.0.1.5', detail: 'provider AS64501 Example Transit; usual: AS64500' },
        ],
      ];
      const rows = await poll(
        'the alerts stored',
        () =>
          withState(
            async (db) =>
              (
                await db.query<Row>(
                  'SELECT type, dedup_key, count::text AS count, evidence FROM pgwarden.alerts WHERE type = ANY($1) ORDER BY type, dedup_key',
                  [MY_TYPES],
                )
              ).rows,
          ),
        (found) => found.length >= wanted.length && found.some((r) => r.dedup_key === 'role:dave'),
      );
      assert.deepEqual(
        rows.map((r) => [r.type, r.dedup_key, r.count]),
        wanted.map(([type, key]) => [type, key, '1']),
      );
      for (const [i, [type, key, evidence]] of wanted.entries()) {
        const row = rows[i] as Row;
        assert.equal(row.evidence.length, 1, `${type} ${key}`);
        for (const [field, value] of Object.entries(evidence))
          assert.equal(row.evidence[0]?.[field], value, `${type} ${key} evidence ${field}`);
        assert.equal(row.evidence[0]?.event, evidence.event ?? 'auth.succeeded');
      }
    });
  });
});
