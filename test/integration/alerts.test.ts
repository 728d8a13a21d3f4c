import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Auditor } from '../../src/audit/auditor.js';
import { auditPaths } from '../../src/audit/log/audit-paths.js';
import { AuditConfigSchema, DetectionConfigSchema } from '../../src/config/config-schema.js';
import type { Queryable } from '../../src/control/gateway-settings/gateway-settings.js';
import type { DetectionInput } from '../../src/detect/detection-input.js';
import type { Detector } from '../../src/detect/detector.js';
import { raise } from '../../src/detect/raised-alert.js';
import { alertDeliverySinks } from '../../src/detect/sinks/alert-delivery-sinks.js';
import type { AlertOccurrence } from '../../src/detect/sinks/alert-occurrence.js';
import { AlertStoreSink } from '../../src/detect/sinks/alert-store-sink.js';
import { EventAlertSink } from '../../src/detect/sinks/event-alert-sink.js';
import type { WebhookAlertSink } from '../../src/detect/sinks/webhook-alert-sink.js';
import { verifyWebhookSignature } from '../../src/detect/sinks/webhook-signature.js';
import { ThreatDetector } from '../../src/detect/threat-detector.js';
import type { SecurityEvent } from '../../src/gateway/security-events.js';
import { dataDirLayout } from '../../src/server/data-dir-layout.js';
import { poll } from '../helpers/poll.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';
import { parseCef } from '../unit/detect/alert-fixture.js';

/**
 * Issue 7, alerts: the store, the webhooks, the audit path and the CLI
 * against a real managed server. Alerts are raised through the real engine
 * and sinks (a tiny detector in this file, the store writing to the server's
 * state database), and once end to end: wrong passwords through the running
 * gateway, whose brute-force detector raises into the same pipeline.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

const SECRET = 'alerts-integration-key-0123456789abcdef';

interface Delivery {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Webhook receiver for the alert webhooks (/pipeline, /alerts) and the audit sink (/audit). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  port = 0;
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      this.deliveries.push({ path: req.url ?? '', headers: req.headers, body });
      res.end('ok');
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  at(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  /** The alert bodies received at `path`, each checked to carry a valid signature. */
  alertsAt(path: string): AlertNotice[] {
    return this.at(path).map((d) => {
      const check = verifyWebhookSignature(
        Buffer.from(SECRET),
        {
          timestamp: d.headers['x-pgwarden-timestamp'] as string | undefined,
          signature: d.headers['x-pgwarden-signature'] as string | undefined,
        },
        d.body,
      );
      assert.deepEqual(check, { ok: true }, `signature of a delivery to ${path}`);
      return JSON.parse(d.body) as AlertNotice;
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

interface AlertNotice {
  event: string;
  delivery: string;
  alert: { id: number | null; type: string; key: string; count: number; severity: string };
}

/** The fields of an OCSF Detection Finding the export test reads. */
interface Finding {
  class_uid: number;
  category_uid: number;
  severity_id: number;
  status_id: number;
  metadata: { version: string };
  finding_info: { uid: string; types: string[]; first_seen_time: number; last_seen_time: number };
  attacks: { tactic: { name: string; uid: string } }[];
  evidences: { src_endpoint?: { ip: string } }[];
}

interface AlertRow {
  id: number;
  type: string;
  dedup_key: string;
  status: string;
  count: number;
  evidence: { detail?: string; event: string }[];
  acknowledged_by: string | null;
  resolved_by: string | null;
}

/** Raises brute-force.source for every auth.failed it sees: enough to drive the pipeline. */
class EveryFailureDetector implements Detector {
  readonly name = 'test-every-failure';
  observe(input: DetectionInput) {
    if (input.kind !== 'event' || input.event.event !== 'auth.failed') return [];
    const { address, user, detail } = input.event;
    return [
      {
        type: 'brute-force.source' as const,
        key: address,
        subject: { address, user },
        summary: `failed login from ${address}`,
        evidence: [
          { time: new Date(input.time).toISOString(), event: 'auth.failed', address, user, detail },
        ],
      },
    ];
  }
}

function readAuditLog(logDir: string): Record<string, unknown>[] {
  if (!existsSync(logDir)) return [];
  return readdirSync(logDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe(`alerts (${pgBin})`, () => {
  const receiver = new Receiver();
  const clients: pg.Client[] = [];
  // Registered before the server's cleanup, so these run first.
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
    await receiver.stop();
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const secretFile = join(dirname(server.dataDir), 'alert-webhook.key');
  let state: pg.Client;

  // The pipeline under test: the engine, the alert.raised event sink, and the real store and webhooks.
  const events: SecurityEvent[] = [];
  const warnings: string[] = [];
  let engine: ThreatDetector;
  let store: AlertStoreSink;
  let webhooks: WebhookAlertSink;
  const pipelineIds = new Set<number>();
  const failed = (address: string, n: number): void =>
    engine.record({ event: 'auth.failed', address, user: 'mallory', detail: `attempt ${n}` });

  const rows = async (where: string, params: unknown[]): Promise<AlertRow[]> =>
    (
      await state.query<AlertRow>(
        `SELECT id::float8 AS id, type, dedup_key, status, count::float8 AS count, evidence,
                acknowledged_by, resolved_by
           FROM pgwarden.alerts WHERE ${where} ORDER BY id`,
        params,
      )
    ).rows;

  before(async () => {
    await receiver.start();
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const hook = (path: string) => `http://127.0.0.1:${receiver.port}${path}`;
    writeFileSync(
      server.layout.configFile,
      [
        'audit:',
        '  log: [ddl]', // connection events are not audited
        '  sinks:',
        `    - { type: webhook, url: "${hook('/audit')}", allowPlaintextHttp: true }`,
        'detection:',
        '  throttle:',
        "    exemptRanges: ['127.0.0.1/32']", // every wrong password reaches authentication
        '  webhooks:',
        `    - { url: "${hook('/alerts')}", secretFile: "${secretFile}" }`,
        '',
      ].join('\n'),
    );
    await server.up();
    state = await server.superuser('pgwarden');
    clients.push(state);

    const config = DetectionConfigSchema.parse({
      webhooks: [{ url: hook('/pipeline'), secretFile }],
    });
    const sinks = alertDeliverySinks({ config, state, onWarning: (m) => warnings.push(m) });
    assert.deepEqual(
      sinks.map((s) => s.name),
      ['store', 'webhooks'],
    );
    store = sinks[0] as AlertStoreSink;
    webhooks = sinks[1] as WebhookAlertSink;
    engine = new ThreatDetector(
      [new EveryFailureDetector()],
      [new EventAlertSink((e) => events.push(e)), ...sinks],
      (m) => warnings.push(m),
    );
  });

  it('stores 50 raises of one alert as one row with count 50, and delivers it once', async () => {
    const address = '203.0.113.50';
    failed(address, 1);
    await store.flush();
    const [first] = await rows('dedup_key = $1', [address]);
    assert.equal(first?.count, 1);
    // Raises folded in the queue and raises written one by one both count into the row.
    for (let n = 2; n <= 25; n++) failed(address, n);
    await store.flush();
    for (let n = 26; n <= 50; n++) {
      failed(address, n);
      if (n % 5 === 0) await store.flush();
    }
    await store.flush();
    const stored = await rows('dedup_key = $1', [address]);
    assert.equal(stored.length, 1);
    const [row] = stored as [AlertRow];
    pipelineIds.add(row.id);
    assert.equal(row.id, first?.id);
    assert.equal(row.type, 'brute-force.source');
    assert.equal(row.count, 50);
    assert.equal(row.status, 'new');
    // The first ten and the latest ten attempts are kept.
    assert.deepEqual(
      row.evidence.map((e) => e.detail),
      [
        ...Array.from({ length: 10 }, (_, i) => `attempt ${i + 1}`),
        ...Array.from({ length: 10 }, (_, i) => `attempt ${41 + i}`),
      ],
    );
    assert.equal(events.filter((e) => e.event === 'alert.raised').length, 50);

    await webhooks.flush();
    const notices = receiver.alertsAt('/pipeline');
    assert.equal(notices.length, 1, 'opened once, no delivery per repeat');
    assert.equal(notices[0]?.event, 'alert.opened');
    assert.equal(notices[0]?.alert.id, row.id);
    assert.equal(notices[0]?.alert.key, address);
    assert.deepEqual(warnings, []);
  });

  it('acknowledges and resolves through the CLI; a raise after resolve opens a new alert', async () => {
    const address = '203.0.113.50';
    const [open] = (await rows('dedup_key = $1', [address])) as [AlertRow];
    const me = userInfo().username;

    const ack = await server.cli(['alerts', 'ack', String(open.id)]);
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, new RegExp(`alert ${open.id} acknowledged by ${me}`));
    const again = await server.cli(['alerts', 'ack', String(open.id)]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already acknowledged/);

    // Acknowledged alerts keep counting, and make no new delivery within the interval.
    for (let n = 51; n <= 53; n++) failed(address, n);
    await store.flush();
    const [acked] = (await rows('id = $1', [open.id])) as [AlertRow];
    assert.deepEqual([acked.status, acked.count, acked.acknowledged_by], ['acknowledged', 53, me]);

    const resolved = await server.cli(['alerts', 'resolve', String(open.id)]);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.match(resolved.stdout, /resolved by/);
    failed(address, 54);
    await store.flush();
    const all = await rows('dedup_key = $1', [address]);
    assert.equal(all.length, 2);
    const [old, reopened] = all as [AlertRow, AlertRow];
    pipelineIds.add(reopened.id);
    assert.deepEqual(
      [old.id, old.status, old.count, old.resolved_by],
      [open.id, 'resolved', 53, me],
    );
    assert.deepEqual([reopened.status, reopened.count], ['new', 1]);
    assert.ok(reopened.id > old.id);

    await webhooks.flush();
    const notices = receiver.alertsAt('/pipeline');
    assert.deepEqual(
      notices.map((n) => [n.event, n.alert.id]),
      [
        ['alert.opened', old.id],
        ['alert.opened', reopened.id],
      ],
    );

    // A resolved alert cannot be acknowledged; bad ids are one-line coded errors.
    const refused = await server.cli(['alerts', 'ack', String(old.id)]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is resolved \(PGW_ALERT_INVALID\)/);
    const missing = await server.cli(['alerts', 'show', '999999']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no alert has id 999999 \(PGW_ALERT_NOT_FOUND\)/);
    for (const args of [
      ['alerts', 'show', 'abc'],
      ['alerts', 'list', '--status', 'bogus'],
      ['alerts', 'list', '--severity', 'urgent'],
      ['alerts', 'list', '--type', 'no-such-type'],
    ]) {
      const result = await server.cli(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, /\(PGW_ALERT_INVALID\)\nhint: /, args.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('lists, filters and shows alerts', async () => {
    const address = '203.0.113.50';
    const [old, reopened] = (await rows('dedup_key = $1', [address])) as [AlertRow, AlertRow];
    const list = async (...flags: string[]): Promise<number[]> => {
      const result = await server.cli(['alerts', 'list', '--json', ...flags]);
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout) as { id: number }[]).map((a) => a.id);
    };
    const open = await list();
    assert.ok(open.includes(reopened.id) && !open.includes(old.id), 'open alerts by default');
    assert.deepEqual(await list('--status', 'resolved'), [old.id]);
    const all = await list('--status', 'all');
    assert.ok(all.includes(old.id) && all.includes(reopened.id));
    assert.ok((await list('--type', 'brute-force')).includes(reopened.id));
    assert.ok(
      (await list('--type', 'brute-force.source', '--severity', 'high')).includes(reopened.id),
    );
    assert.ok(!(await list('--severity', 'critical')).includes(reopened.id));
    assert.ok((await list('--since', '1h')).includes(reopened.id));
    assert.ok(!(await list('--since', '2999-01-01')).includes(reopened.id));

    const table = await server.cli(['alerts', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^id\s+status\s+severity\s+type\s+count/);
    assert.match(
      table.stdout,
      new RegExp(`\\n${reopened.id}\\s+new\\s+high\\s+brute-force\\.source\\s+1`),
    );

    const shown = await server.cli(['alerts', 'show', String(old.id), '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const alert = JSON.parse(shown.stdout) as {
      count: number;
      evidence: unknown[];
      status: string;
    };
    assert.deepEqual([alert.count, alert.status, alert.evidence.length], [53, 'resolved', 20]);
    const text = await server.cli(['alerts', 'show', String(old.id)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /tactic\s+Credential Access \(T1110\.001 Password Guessing\)/);
    assert.match(text.stdout, /evidence \(20 item/);
    assert.match(text.stdout, /attempt 53/);
  });

  it('exports parseable CEF lines and OCSF Detection Findings', async () => {
    const ids = [...pipelineIds].sort((a, b) => a - b);
    const cef = await server.cli(['alerts', 'export', '--format', 'cef']);
    assert.equal(cef.code, 0, cef.stderr);
    const lines = cef.stdout.split('\n').filter((l) => l !== '');
    assert.ok(lines.length >= ids.length);
    const parsed = lines.map(parseCef);
    for (const { header, extension } of parsed) {
      assert.equal(header[0], 'CEF:0');
      assert.deepEqual(header.slice(1, 3), ['pgwarden', 'pgwarden']);
      assert.match(header[6] ?? '', /^(3|5|8|10)$/);
      assert.match(extension.get('rt') ?? '', /^\d{13}$/);
    }
    const byId = new Map(parsed.map((p) => [Number(p.extension.get('externalId')), p]));
    for (const id of ids) {
      const p = byId.get(id);
      assert.ok(p, `alert ${id} exported`);
      assert.equal(p.header[4], 'brute-force.source');
      assert.equal(p.header[6], '8');
      assert.equal(p.extension.get('src'), '203.0.113.50');
      assert.equal(p.extension.get('suser'), 'mallory');
    }
    assert.equal(byId.get(ids[0] as number)?.extension.get('cnt'), '53');

    const out = join(dirname(server.dataDir), 'alerts.ocsf.jsonl');
    const ocsf = await server.cli(['alerts', 'export', '--format', 'ocsf', '--out', out]);
    assert.equal(ocsf.code, 0, ocsf.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const findings = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Finding);
    for (const id of ids) {
      const finding = findings.find((f) => f.finding_info.uid === `pgwarden-alert-${id}`);
      assert.ok(finding, `alert ${id} exported`);
      assert.equal(finding.class_uid, 2004);
      assert.equal(finding.category_uid, 2);
      assert.equal(finding.metadata.version, '1.3.0');
      assert.equal(finding.severity_id, 4);
      assert.deepEqual(finding.finding_info.types, ['brute-force.source']);
      assert.equal(typeof finding.finding_info.first_seen_time, 'number');
      assert.ok(finding.finding_info.last_seen_time >= finding.finding_info.first_seen_time);
      assert.deepEqual(finding.attacks[0]?.tactic, { name: 'Credential Access', uid: 'TA0006' });
      assert.ok(finding.evidences.length > 0);
      assert.deepEqual(finding.evidences[0]?.src_endpoint, { ip: '203.0.113.50' });
    }
    const statuses = findings
      .filter((f) => ids.some((id) => f.finding_info.uid === `pgwarden-alert-${id}`))
      .map((f) => f.status_id)
      .sort();
    assert.deepEqual(statuses, [1, 4]);

    const exists = await server.cli(['alerts', 'export', '--format', 'ocsf', '--out', out]);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /PGW_OUTPUT_FILE_EXISTS/);
    const badFormat = await server.cli(['alerts', 'export', '--format', 'xml']);
    assert.match(badFormat.stderr, /"xml" is not an export format \(PGW_ALERT_INVALID\)/);
  });

  it('reports a failing database once, retries, bounds what waits, and catches up', async () => {
    // The database "fails" by sending the store's statements to a socket where no server listens.
    const nowhere = new pg.Pool({ host: '/nonexistent-pgwarden-socket', max: 1 });
    nowhere.on('error', () => undefined);
    let broken = true;
    let attempts = 0;
    const db = {
      query: (sql: string, params?: unknown[]) => {
        attempts++;
        return broken ? nowhere.query(sql, params) : state.query(sql, params);
      },
    } as Queryable;
    const seen: AlertOccurrence[] = [];
    const said: string[] = [];
    const flaky = new AlertStoreSink(db, {
      onWarning: (m) => said.push(m),
      onStored: (o) => seen.push(o),
      maxPending: 3,
      flushIntervalMs: 5,
      retryMs: 5,
      maxRetryMs: 20,
    });
    const raised = (key: string) =>
      raise(
        {
          type: 'brute-force.user',
          key,
          subject: { user: key },
          summary: `failed logins for ${key}`,
          evidence: [{ time: new Date().toISOString(), event: 'auth.failed', user: key }],
        },
        new Date(),
      );
    for (const key of ['flaky-1', 'flaky-1', 'flaky-2', 'flaky-3', 'flaky-4', 'flaky-5'])
      flaky.deliver(raised(key));
    await poll(
      'several failed attempts',
      () => attempts,
      (n) => n >= 4,
    );
    flaky.deliver(raised('flaky-1')); // a repeat still folds in while the database is down
    await poll(
      'another failed attempt',
      () => attempts,
      (n) => n >= 6,
    );
    assert.equal(said.filter((m) => m.includes('cannot write alerts')).length, 1, said.join('\n'));
    assert.equal(said.filter((m) => m.includes('dropping new alerts')).length, 1, said.join('\n'));
    assert.deepEqual(
      seen.map((o) => [o.alert.key, o.id, o.count]),
      [
        ['flaky-1', undefined, 2],
        ['flaky-2', undefined, 1],
        ['flaky-3', undefined, 1],
      ],
      'onStored hears of unwritten alerts once, not on every retry',
    );

    broken = false;
    const written = await poll(
      'alerts written once the database is back',
      () => rows(`type = 'brute-force.user' AND dedup_key LIKE 'flaky-%'`, []),
      (r) => r.length === 3,
    );
    for (const row of written) pipelineIds.add(row.id);
    assert.deepEqual(
      written.map((r) => [r.dedup_key, r.count]),
      [
        ['flaky-1', 3],
        ['flaky-2', 1],
        ['flaky-3', 1],
      ],
    );
    assert.deepEqual(
      said.filter((m) => m.includes('again')),
      [
        'alert store: writing alerts to the state database again; 2 alert(s) were dropped meanwhile',
      ],
    );
    const stored = seen.slice(3);
    assert.deepEqual(
      stored.map((o) => [o.alert.key, o.opened, o.id !== undefined]),
      [
        ['flaky-1', true, true],
        ['flaky-2', true, true],
        ['flaky-3', true, true],
      ],
    );
    await flaky.close();
    await nowhere.end();
    assert.ok(said.every((m) => m.startsWith('alert store: ')));
  });

  it('records alert.raised in the audit log and its sinks when connections are not audited', async () => {
    const dir = mkdtempSync('/tmp/pgw-audit-');
    try {
      const layout = dataDirLayout(dir);
      const config = AuditConfigSchema.parse({
        log: ['ddl'],
        sinks: [
          {
            type: 'webhook',
            url: `http://127.0.0.1:${receiver.port}/audit-component`,
            allowPlaintextHttp: true,
          },
        ],
      });
      const auditor = await Auditor.start(layout, config, (e) => warnings.push(e.message));
      auditor.connectionEvent({ event: 'auth.failed', address: '198.51.100.1', user: 'x' });
      auditor.connectionEvent({
        event: 'alert.raised',
        address: '198.51.100.1',
        detail: 'test alert',
        alert: {
          type: 'brute-force.source',
          severity: 'high',
          tactic: 'Credential Access',
          technique: 'T1110.001 Password Guessing',
          key: '198.51.100.1',
          evidence: 1,
        },
      });
      await auditor.close();
      const records = readAuditLog(auditPaths(dir).logDir);
      assert.deepEqual(
        records.filter((r) => r.event === 'alert.raised').map((r) => [r.code, r.detail]),
        [[6001, 'test alert']],
      );
      assert.equal(
        records.filter((r) => r.event === 'auth.failed').length,
        0,
        'policy still applies',
      );
      const sent = receiver
        .at('/audit-component')
        .flatMap((d) => JSON.parse(d.body) as { event: string }[]);
      assert.deepEqual(
        sent.map((r) => r.event),
        ['alert.raised'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('end to end: wrong passwords through the gateway open one stored, delivered and audited alert', async () => {
    await state.query(`CREATE ROLE alert_victim LOGIN PASSWORD 'Correct-Horse-Battery-9'`);
    for (let i = 0; i < 12; i++) {
      const client = new pg.Client(server.gatewayClientConfig('alert_victim', `Wrong-Guess-${i}`));
      client.on('error', () => undefined);
      clients.push(client);
      const error = await client.connect().then(
        () => assert.fail('a wrong password got in'),
        (e: unknown) => e as { code?: string },
      );
      assert.equal(error.code, '28P01');
    }
    const gatewayRows = async () => (await rows('true', [])).filter((r) => !pipelineIds.has(r.id));
    const opened = await poll(
      'the gateway stores brute-force.source for 127.0.0.1',
      gatewayRows,
      (r) => r.some((a) => a.type === 'brute-force.source' && a.dedup_key === '127.0.0.1'),
    );
    const alert = opened.find((a) => a.type === 'brute-force.source') as AlertRow;
    assert.equal(alert.status, 'new');
    assert.ok(alert.evidence.length > 0 && alert.evidence.every((e) => e.event === 'auth.failed'));

    // Stopping the gateway flushes its store and webhooks: what was delivered is all there is.
    const down = await server.cli(['down']);
    assert.equal(down.code, 0, down.stderr);
    const notices = receiver.alertsAt('/alerts');
    assert.equal(
      notices.filter((n) => n.alert.type === 'brute-force.source').length,
      1,
      'one delivery for the source, not one per failed login',
    );
    assert.ok(notices.every((n) => n.event === 'alert.opened'));
    const deliveredIds = notices.map((n) => n.alert.id).sort();
    assert.ok(deliveredIds.includes(alert.id));
    assert.equal(new Set(deliveredIds).size, deliveredIds.length, 'each alert delivered once');

    const audit = readAuditLog(join(server.dataDir, 'audit'));
    const raised = audit.filter(
      (r) =>
        r.event === 'alert.raised' &&
        (r.alert as { type?: string } | undefined)?.type === 'brute-force.source',
    );
    assert.ok(raised.length >= 1, 'alert.raised is in the audit log');
    assert.equal(raised[0]?.code, 6001);
    assert.equal(
      audit.filter((r) => r.event === 'auth.failed').length,
      0,
      'connections are not audited',
    );
    const sunk = receiver
      .at('/audit')
      .flatMap((d) => JSON.parse(d.body) as { event: string; alert?: { type: string } }[]);
    assert.ok(
      sunk.some((r) => r.event === 'alert.raised' && r.alert?.type === 'brute-force.source'),
    );
  });
});

describe(`alert webhook configuration (${pgBin})`, () => {
  it('refuses to start with a webhook key file others can read', async (t) => {
    const server = TempServer.create(pgBin, (fn) => t.after(fn));
    mkdirSync(server.dataDir, { recursive: true });
    const key = join(dirname(server.dataDir), 'open.key');
    writeFileSync(key, `${SECRET}\n`);
    chmodSync(key, 0o644);
    writeFileSync(
      server.layout.configFile,
      `detection:\n  webhooks:\n    - { url: "https://alerts.example.com/in", secretFile: "${key}" }\n`,
    );
    const result = await server.cli(['up', '--detach']);
    assert.notEqual(result.code, 0);
    const output = result.stdout + result.stderr;
    assert.match(output, /secretFile .*open\.key is readable by group or others/);
    assert.match(output, /chmod 600/);
    assert.ok(!output.includes(SECRET), 'the key is never shown');
  });
});
