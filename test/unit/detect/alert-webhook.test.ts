import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AlertSeverity } from '../../../src/detect/alert-catalog.js';
import { type RaisedAlert, raise } from '../../../src/detect/raised-alert.js';
import type { AlertOccurrence } from '../../../src/detect/sinks/alert-occurrence.js';
import { WebhookAlertSink } from '../../../src/detect/sinks/webhook-alert-sink.js';
import { verifyWebhookSignature } from '../../../src/detect/sinks/webhook-signature.js';
import { type WebhookTarget, webhookTargets } from '../../../src/detect/sinks/webhook-target.js';

/** The webhook sink against a real HTTP receiver in this process. */

interface Received {
  readonly path: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef-unit');

/** A receiver answering each request with the next status of `script` (then 200). */
class Receiver {
  readonly received: Received[] = [];
  script: number[] = [];
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      this.received.push({ path: req.url, headers: req.headers, body });
      const status = this.script.shift() ?? 200;
      if (status === 302) res.setHeader('location', 'http://203.0.113.1/elsewhere');
      res.writeHead(status).end();
    });
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  target(minSeverity: AlertSeverity = 'low', path = '/hook'): WebhookTarget {
    return {
      url: new URL(`http://127.0.0.1:${this.port}${path}`),
      label: `http://127.0.0.1:${this.port}${path}`,
      secret: SECRET,
      minSeverity,
    };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function alert(type: RaisedAlert['type'] = 'brute-force.source', key = '203.0.113.9'): RaisedAlert {
  return raise(
    {
      type,
      key,
      subject: { address: key },
      summary: `alert about ${key}`,
      evidence: [{ time: new Date().toISOString(), event: 'auth.failed', address: key }],
    },
    new Date(),
  );
}

function stored(a: RaisedAlert, id: number, opened: boolean, count: number): AlertOccurrence {
  return {
    alert: a,
    id,
    status: 'new',
    opened,
    count,
    firstSeen: a.raisedAt,
    lastSeen: a.raisedAt,
    evidence: a.evidence,
  };
}

const FAST = { backoffMs: 5, maxBackoffMs: 20, timeoutMs: 2000 } as const;

describe('WebhookAlertSink', () => {
  const receiver = new Receiver();
  const warnings: string[] = [];
  before(() => receiver.start());
  after(() => receiver.stop());

  function sink(
    options: Partial<ConstructorParameters<typeof WebhookAlertSink>[1]> = {},
    targets = [receiver.target()],
  ) {
    receiver.received.length = 0;
    receiver.script = [];
    warnings.length = 0;
    return new WebhookAlertSink(targets, {
      onWarning: (m) => warnings.push(m),
      source: 'store',
      ...FAST,
      ...options,
    });
  }

  it('delivers an opened alert once, signed, and not its 49 repeats', async () => {
    const webhooks = sink();
    const a = alert();
    webhooks.notify(stored(a, 1, true, 1));
    for (let n = 2; n <= 50; n++) webhooks.notify(stored(a, 1, false, n));
    await webhooks.flush();
    assert.equal(receiver.received.length, 1);
    const [delivery] = receiver.received as [Received];
    assert.equal(delivery.headers['content-type'], 'application/json');
    const check = verifyWebhookSignature(
      SECRET,
      {
        timestamp: delivery.headers['x-pgwarden-timestamp'] as string,
        signature: delivery.headers['x-pgwarden-signature'] as string,
      },
      delivery.body,
    );
    assert.deepEqual(check, { ok: true });
    const body = JSON.parse(delivery.body) as {
      event: string;
      delivery: string;
      alert: Record<string, unknown>;
    };
    assert.equal(body.event, 'alert.opened');
    assert.equal(body.delivery, delivery.headers['x-pgwarden-delivery']);
    assert.equal(body.alert.id, 1);
    assert.equal(body.alert.count, 1);
    assert.equal(body.alert.severity, 'high');
  });

  it('delivers a repeat once the interval has passed', async () => {
    let now = 1_000_000;
    const webhooks = sink({ clock: () => now });
    const a = alert();
    webhooks.notify(stored(a, 1, true, 1));
    now += 299_999;
    webhooks.notify(stored(a, 1, false, 2));
    now += 1;
    webhooks.notify(stored(a, 1, false, 3));
    now += 1;
    webhooks.notify(stored(a, 1, false, 4));
    await webhooks.flush();
    const events = receiver.received.map(
      (r) => JSON.parse(r.body) as { event: string; alert: { count: number } },
    );
    assert.deepEqual(
      events.map((e) => [e.event, e.alert.count]),
      [
        ['alert.opened', 1],
        ['alert.repeated', 3],
      ],
    );
  });

  it('retries 503 and 429 with the same delivery id, each attempt signed afresh', async () => {
    const webhooks = sink();
    receiver.script = [503, 429];
    webhooks.notify(stored(alert(), 1, true, 1));
    await webhooks.flush();
    assert.equal(receiver.received.length, 3);
    const ids = new Set(receiver.received.map((r) => r.headers['x-pgwarden-delivery']));
    assert.equal(ids.size, 1, 'one delivery, three attempts');
    for (const r of receiver.received) {
      const check = verifyWebhookSignature(
        SECRET,
        {
          timestamp: r.headers['x-pgwarden-timestamp'] as string,
          signature: r.headers['x-pgwarden-signature'] as string,
        },
        r.body,
      );
      assert.deepEqual(check, { ok: true });
    }
    assert.equal(warnings.filter((w) => w.includes('HTTP 503; retrying')).length, 1);
    assert.ok(warnings.some((w) => w.includes('delivering again')));
  });

  it('gives up after maxAttempts of 5xx, and does not retry other 4xx', async () => {
    const webhooks = sink({ maxAttempts: 3 });
    receiver.script = [500, 500, 500, 500];
    webhooks.notify(stored(alert('brute-force.source', 'a'), 1, true, 1));
    await webhooks.flush();
    assert.equal(receiver.received.length, 3);
    assert.ok(warnings.some((w) => w.includes('dropped')));

    const again = sink();
    receiver.script = [400];
    again.notify(stored(alert('brute-force.source', 'b'), 2, true, 1));
    await again.flush();
    assert.equal(receiver.received.length, 1);
    assert.ok(warnings.some((w) => /HTTP 400; delivery .* dropped/.test(w)));
  });

  it('does not follow a redirect', async () => {
    const webhooks = sink();
    receiver.script = [302];
    webhooks.notify(stored(alert(), 1, true, 1));
    await webhooks.flush();
    assert.equal(receiver.received.length, 1);
    assert.ok(warnings.some((w) => w.includes('HTTP 302')));
  });

  it('retries a network error, and never logs the URL query or user info', async () => {
    const closed = new http.Server();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const [target] = webhookTargetsFor(`http://127.0.0.1:${port}/hook?token=s3cret`);
    const webhooks = sink({ maxAttempts: 2 }, [target as WebhookTarget]);
    webhooks.notify(stored(alert(), 1, true, 1));
    await webhooks.flush();
    assert.ok(
      warnings.some((w) => w.includes('ECONNREFUSED')),
      warnings.join('\n'),
    );
    for (const w of warnings) {
      assert.ok(!w.includes('s3cret') && !w.includes(SECRET.toString()), w);
    }
  });

  it('sends each endpoint only the severities it asked for', async () => {
    const webhooks = sink({}, [receiver.target('high', '/high'), receiver.target('low', '/low')]);
    webhooks.notify(stored(alert('login.new-principal', 'p'), 1, true, 1)); // low
    webhooks.notify(stored(alert('brute-force.success', 's'), 2, true, 1)); // critical
    await webhooks.flush();
    const typesAt = (path: string) =>
      receiver.received
        .filter((r) => r.path === path)
        .map((r) => (JSON.parse(r.body) as { alert: { type: string } }).alert.type)
        .sort();
    assert.deepEqual(typesAt('/high'), ['brute-force.success']);
    assert.deepEqual(typesAt('/low'), ['brute-force.success', 'login.new-principal']);
  });

  it('counts raises itself when there is no store, and ignores the engine when there is one', async () => {
    const engine = sink({ source: 'engine' });
    const a = alert();
    for (let n = 0; n < 20; n++) engine.deliver(a);
    await engine.flush();
    assert.equal(receiver.received.length, 1);
    const body = JSON.parse(receiver.received[0]?.body ?? '{}') as {
      alert: { id: unknown; count: number };
    };
    assert.equal(body.alert.id, null);
    assert.equal(body.alert.count, 1);

    const fed = sink({ source: 'store' });
    fed.deliver(a);
    await fed.flush();
    assert.equal(receiver.received.length, 0);
  });

  it('drops what it cannot send by close, without waiting on retries', async () => {
    const webhooks = sink({ backoffMs: 60_000, maxBackoffMs: 60_000, closeGraceMs: 2000 });
    receiver.script = [503, 503];
    webhooks.notify(stored(alert(), 1, true, 1));
    while (receiver.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await webhooks.close();
    // The retry wait was cut: one more attempt at close (503 again), then the delivery is dropped.
    assert.equal(receiver.received.length, 2);
    assert.ok(
      warnings.some((w) => w.includes('1 alert delivery(ies) were dropped')),
      warnings.join('\n'),
    );
    webhooks.notify(stored(alert(), 1, false, 9));
    await webhooks.flush();
    assert.equal(receiver.received.length, 2, 'nothing is sent after close');
  });
});

function webhookTargetsFor(url: string): WebhookTarget[] {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-hook-'));
  try {
    const file = join(dir, 'secret');
    writeFileSync(file, `${SECRET.toString()}\n`, { mode: 0o600 });
    return webhookTargets([{ url, secretFile: file, minSeverity: 'low' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('webhookTargets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-hook-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, `${'k'.repeat(40)}\n`, { mode: 0o600 });
  const target = (url: string, file = secretFile) =>
    webhookTargets([{ url, secretFile: file, minSeverity: 'medium' }]);

  it('reads the key (trimmed) and keeps secrets out of the label', () => {
    const [t] = target('https://alerts.example.com/in?token=abc');
    assert.equal(t?.secret.toString(), 'k'.repeat(40));
    assert.equal(t?.label, 'https://alerts.example.com/in');
    assert.equal(t?.minSeverity, 'medium');
  });

  it('refuses user info in the URL (fetch would put it in its errors)', () => {
    assert.throws(
      () => target('https://user:pw@alerts.example.com/in'),
      (e: Error & { code?: string }) =>
        e.code === 'PGW_CONFIG_INVALID' &&
        /has user info/.test(e.message) &&
        !e.message.includes('pw'),
    );
  });

  it('takes http only to loopback', () => {
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://localhost/x',
      'http://[::1]:8080/x',
      'http://127.8.9.10/',
    ]) {
      assert.equal(target(url).length, 1, url);
    }
    for (const url of [
      'http://10.0.0.1/x',
      'http://alerts.example.com/x',
      'http://128.0.0.1/',
      'ftp://127.0.0.1/',
    ]) {
      assert.throws(
        () => target(url),
        (e: Error & { code?: string }) =>
          e.code === 'PGW_CONFIG_INVALID' && /is not https/.test(e.message),
        url,
      );
    }
  });

  it('refuses a key file that group or others can read', () => {
    const open = join(dir, 'open');
    writeFileSync(open, 'k'.repeat(40));
    chmodSync(open, 0o644);
    assert.throws(
      () => target('https://a.example/', open),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'PGW_CONFIG_INVALID' &&
        /readable by group or others/.test(e.message) &&
        /chmod 600/.test(e.hint ?? ''),
    );
  });

  it('refuses a missing or short key, without showing it', () => {
    assert.throws(
      () => target('https://a.example/', join(dir, 'missing')),
      /cannot read secretFile/,
    );
    const short = join(dir, 'short');
    writeFileSync(short, 'tooshort-secret', { mode: 0o600 });
    assert.throws(
      () => target('https://a.example/', short),
      (e: Error) =>
        /shorter than 32 bytes/.test(e.message) && !e.message.includes('tooshort-secret'),
    );
  });
});
