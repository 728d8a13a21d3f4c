import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  type HttpSinkOptions,
  OtlpLogSink,
  WebhookSink,
} from '../../../src/audit/sinks/http-sinks.js';
import type { SinkRecord } from '../../../src/audit/sinks/queued-sink.js';

/**
 * The OTLP/HTTP logs sink against a real HTTP receiver in this process. Every
 * request body is validated strictly as an ExportLogsServiceRequest in the
 * OTLP JSON Protobuf Encoding (opentelemetry-proto docs/specification.md),
 * and decoded back into the records sent.
 */

// ---------------------------------------------------------------- OTLP/JSON validator

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function object(value: Json | undefined, path: string, allowed: readonly string[]): JsonObject {
  assert.ok(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `${path} is an object`,
  );
  for (const key of Object.keys(value)) {
    assert.ok(allowed.includes(key), `${path} has no field ${key} (fields are lowerCamelCase)`);
  }
  return value;
}

function array(value: Json | undefined, path: string): Json[] {
  assert.ok(Array.isArray(value), `${path} is an array`);
  return value;
}

/** fixed64 in OTLP/JSON: a string of decimal digits (proto3 JSON mapping), unsigned. */
function fixed64(value: Json | undefined, path: string): bigint {
  assert.equal(typeof value, 'string', `${path} is a string`);
  assert.match(value as string, /^(0|[1-9]\d*)$/, `${path} is decimal`);
  const n = BigInt(value as string);
  assert.ok(n <= UINT64_MAX, `${path} fits 64 bits`);
  return n;
}

function int64(value: Json | undefined, path: string): bigint {
  assert.equal(typeof value, 'string', `${path} is a string (int64 in JSON)`);
  assert.match(value as string, /^-?(0|[1-9]\d*)$/, `${path} is decimal`);
  const n = BigInt(value as string);
  assert.ok(n >= INT64_MIN && n <= INT64_MAX, `${path} fits int64`);
  return n;
}

function uint32(value: Json | undefined, path: string): number {
  assert.ok(
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff,
    `${path} is a uint32 number`,
  );
  return value;
}

/** AnyValue: exactly one of its fields, or none (the empty value). */
function anyValue(value: Json | undefined, path: string): unknown {
  const fields = [
    'stringValue',
    'boolValue',
    'intValue',
    'doubleValue',
    'arrayValue',
    'kvlistValue',
    'bytesValue',
  ];
  const v = object(value, path, fields);
  const keys = Object.keys(v);
  assert.ok(keys.length <= 1, `${path} sets one value, not ${keys.join(', ')}`);
  const [key] = keys;
  const inner = key === undefined ? undefined : v[key];
  switch (key) {
    case undefined:
      return null;
    case 'stringValue':
      assert.equal(typeof inner, 'string', `${path}.stringValue`);
      return inner;
    case 'boolValue':
      assert.equal(typeof inner, 'boolean', `${path}.boolValue`);
      return inner;
    case 'intValue': {
      const n = int64(inner, `${path}.intValue`);
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(n)
        : n;
    }
    case 'doubleValue':
      // proto3 JSON: a number, or "NaN", "Infinity", "-Infinity".
      if (typeof inner === 'string') {
        assert.ok(['NaN', 'Infinity', '-Infinity'].includes(inner), `${path}.doubleValue`);
        return Number(inner);
      }
      assert.equal(typeof inner, 'number', `${path}.doubleValue`);
      return inner;
    case 'arrayValue':
      return array(
        object(inner, `${path}.arrayValue`, ['values']).values ?? [],
        `${path}.arrayValue.values`,
      ).map((item, i) => anyValue(item, `${path}.arrayValue.values[${i}]`));
    case 'kvlistValue':
      return keyValues(
        object(inner, `${path}.kvlistValue`, ['values']).values ?? [],
        `${path}.kvlistValue.values`,
      );
    default:
      assert.equal(key, 'bytesValue');
      assert.match(String(inner), /^[A-Za-z0-9+/]*={0,2}$/, `${path}.bytesValue is base64`);
      return inner;
  }
}

/** A repeated KeyValue (attributes): keys unique and not empty. */
function keyValues(value: Json | undefined, path: string): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  array(value, path).forEach((item, i) => {
    const kv = object(item, `${path}[${i}]`, ['key', 'value']);
    assert.ok(typeof kv.key === 'string' && kv.key !== '', `${path}[${i}].key`);
    assert.ok(!(kv.key in decoded), `${path} has key ${kv.key} once`);
    assert.ok('value' in kv, `${path}[${i}].value`);
    decoded[kv.key] = anyValue(kv.value, `${path}[${i}].value`);
  });
  return decoded;
}

interface DecodedLogRecord {
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: unknown;
  readonly attributes: Record<string, unknown>;
}

interface DecodedRequest {
  readonly resource: Record<string, unknown>;
  readonly scope: { readonly name: string; readonly version?: string };
  readonly logRecords: DecodedLogRecord[];
}

/** ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1), strictly. */
function decodeExportLogsServiceRequest(body: Json): DecodedRequest[] {
  const request = object(body, 'request', ['resourceLogs']);
  const resourceLogs = array(request.resourceLogs, 'resourceLogs');
  assert.ok(resourceLogs.length > 0, 'resourceLogs is not empty');
  return resourceLogs.flatMap((rl, r) => {
    const path = `resourceLogs[${r}]`;
    const resourceLog = object(rl, path, ['resource', 'scopeLogs', 'schemaUrl']);
    const resource = object(resourceLog.resource, `${path}.resource`, [
      'attributes',
      'droppedAttributesCount',
      'entityRefs',
    ]);
    const resourceAttributes = keyValues(resource.attributes ?? [], `${path}.resource.attributes`);
    return array(resourceLog.scopeLogs, `${path}.scopeLogs`).map((sl, s) => {
      const scopePath = `${path}.scopeLogs[${s}]`;
      const scopeLog = object(sl, scopePath, ['scope', 'logRecords', 'schemaUrl']);
      const scope = object(scopeLog.scope, `${scopePath}.scope`, [
        'name',
        'version',
        'attributes',
        'droppedAttributesCount',
      ]);
      assert.equal(typeof scope.name, 'string', `${scopePath}.scope.name`);
      if (scope.version !== undefined) assert.equal(typeof scope.version, 'string');
      const logRecords = array(scopeLog.logRecords, `${scopePath}.logRecords`).map((lr, l) =>
        logRecord(lr, `${scopePath}.logRecords[${l}]`),
      );
      return {
        resource: resourceAttributes,
        scope: { name: scope.name as string },
        logRecords,
      };
    });
  });
}

/** LogRecord (opentelemetry/proto/logs/v1): enums as integers, 64-bit times as decimal strings. */
function logRecord(value: Json, path: string): DecodedLogRecord {
  const record = object(value, path, [
    'timeUnixNano',
    'observedTimeUnixNano',
    'severityNumber',
    'severityText',
    'body',
    'attributes',
    'droppedAttributesCount',
    'flags',
    'traceId',
    'spanId',
    'eventName',
  ]);
  const severityNumber = record.severityNumber;
  assert.ok(
    typeof severityNumber === 'number' &&
      Number.isInteger(severityNumber) &&
      severityNumber >= 1 &&
      severityNumber <= 24,
    `${path}.severityNumber is a SeverityNumber integer`,
  );
  assert.equal(typeof record.severityText, 'string', `${path}.severityText`);
  if (record.droppedAttributesCount !== undefined)
    uint32(record.droppedAttributesCount, `${path}.droppedAttributesCount`);
  if (record.flags !== undefined) uint32(record.flags, `${path}.flags`);
  if (record.traceId !== undefined) assert.match(String(record.traceId), /^([0-9a-f]{32})?$/);
  if (record.spanId !== undefined) assert.match(String(record.spanId), /^([0-9a-f]{16})?$/);
  return {
    timeUnixNano: fixed64(record.timeUnixNano, `${path}.timeUnixNano`),
    observedTimeUnixNano: fixed64(record.observedTimeUnixNano, `${path}.observedTimeUnixNano`),
    severityNumber,
    severityText: record.severityText as string,
    body: anyValue(record.body, `${path}.body`),
    attributes: keyValues(record.attributes ?? [], `${path}.attributes`),
  };
}

// ---------------------------------------------------------------- receiver

interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Answer =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | 'hang';

/** An OTLP/HTTP receiver; `answer` picks the reply to the nth request (0-based). */
class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly hanging: http.ServerResponse[] = [];
  private constructor(
    private readonly server: http.Server,
    private readonly answer: (index: number) => Answer,
  ) {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const index = this.requests.length;
        this.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const reply = this.answer(index);
        if (reply === 'hang') {
          this.hanging.push(res);
          return;
        }
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body ?? '{}');
      });
    });
  }

  static async start(
    t: TestContext,
    answer: (index: number) => Answer = () => ({ status: 200 }),
  ): Promise<Receiver> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new Receiver(server, answer);
    t.after(() => receiver.close());
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/v1/logs`;
  }

  /** The records of every request, decoded from strictly valid OTLP/JSON. */
  decoded(index: number): DecodedRequest[] {
    const request = this.requests[index];
    assert.ok(request, `request ${index}`);
    return decodeExportLogsServiceRequest(JSON.parse(request.body) as Json);
  }

  close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Waits for a condition, up to a bound; never measures how long it took. */
async function until(what: string, condition: () => boolean, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---------------------------------------------------------------- records and sinks

let nextStatementId = 1;

function statement(fields: Record<string, unknown> = {}): SinkRecord {
  return {
    time: new Date().toISOString(),
    code: 5001,
    event: 'statement',
    session: 'c0ffee01',
    address: '127.0.0.1',
    port: 54321,
    tls: 'TLSv1.3',
    database: 'app',
    user: 'alice',
    statementId: nextStatementId++,
    protocol: 'extended',
    class: 'read',
    command: 'SELECT',
    objects: ['public.accounts', 'public.users'],
    statement: 'SELECT $1::int AS i',
    outcome: 'SELECT 1',
    error: false,
    rows: 1,
    durationMs: 0.25,
    ...fields,
  };
}

function otlp(t: TestContext, options: Partial<HttpSinkOptions> & { url: string }): OtlpLogSink {
  const sink = new OtlpLogSink({ flushIntervalMs: 5, ...options });
  t.after(() => sink.close());
  return sink;
}

/** The record as it should come back from the attributes: null and undefined fields left out. */
function asAttributes(record: SinkRecord): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).filter(([, value]) => value !== null && value !== undefined),
  );
}

function allLogRecords(receiver: Receiver): DecodedLogRecord[] {
  return receiver.requests.flatMap((_, i) =>
    receiver.decoded(i).flatMap((request) => request.logRecords),
  );
}

// ---------------------------------------------------------------- tests

describe('OTLP/HTTP logs sink', () => {
  it('POSTs a strictly valid ExportLogsServiceRequest to /v1/logs as application/json', async (t) => {
    const receiver = await Receiver.start(t);
    const sink = otlp(t, { url: receiver.url });
    const records = [
      statement(),
      statement({
        error: true,
        outcome: '42P01',
        rows: null,
        user: 'jörg',
        statement: "SELECT 'Grüße, 世界 🐘' FROM missing",
      }),
      {
        time: new Date().toISOString(),
        code: 5002,
        event: 'session.closed',
        session: 'c0ffee01',
        applicationName: undefined,
        durationMs: 1234,
        bytesIn: 2 ** 40,
        tls: 'none',
      },
    ];
    for (const record of records) sink.send(record);
    await until('one request', () => sink.stats().delivered === 3);

    assert.equal(receiver.requests.length, 1, 'one batch');
    const [request] = receiver.requests;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/logs');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers.authorization, undefined, 'no token configured, none sent');

    const [resourceLogs, ...more] = receiver.decoded(0);
    assert.ok(resourceLogs);
    assert.equal(more.length, 0);
    assert.deepEqual(resourceLogs.resource, { 'service.name': 'pgwarden' });
    assert.deepEqual(resourceLogs.scope, { name: 'pgwarden.audit' });
    assert.equal(resourceLogs.logRecords.length, 3);
    resourceLogs.logRecords.forEach((logRecord, i) => {
      const record = records[i] as SinkRecord;
      assert.equal(logRecord.timeUnixNano, BigInt(Date.parse(record.time)) * 1_000_000n);
      assert.ok(logRecord.observedTimeUnixNano > 0n, 'observedTimeUnixNano is set');
      const warn = record.error === true;
      assert.equal(logRecord.severityNumber, warn ? 13 : 9, 'WARN or INFO as SeverityNumber');
      assert.equal(logRecord.severityText, warn ? 'WARN' : 'INFO');
      assert.equal(logRecord.body, record.event);
      assert.deepEqual(logRecord.attributes, asAttributes(record));
    });
    // The types on the wire, not only the values decoded.
    const wire = JSON.parse(request.body).resourceLogs[0].scopeLogs[0].logRecords[0].attributes;
    const attribute = (key: string) =>
      wire.find((kv: { key: string }) => kv.key === key)?.value as Record<string, unknown>;
    assert.deepEqual(attribute('code'), { intValue: '5001' });
    assert.deepEqual(attribute('durationMs'), { doubleValue: 0.25 });
    assert.deepEqual(attribute('error'), { boolValue: false });
    assert.deepEqual(attribute('statement'), { stringValue: 'SELECT $1::int AS i' });
    assert.deepEqual(attribute('objects'), {
      arrayValue: { values: [{ stringValue: 'public.accounts' }, { stringValue: 'public.users' }] },
    });
  });

  it('encodes numbers as the proto3 JSON mapping says: int64 strings, NaN and infinities named', async (t) => {
    const receiver = await Receiver.start(t);
    const sink = otlp(t, { url: receiver.url });
    sink.send({
      time: 'not a time',
      code: 1,
      event: 'numbers',
      negative: -5,
      unsafe: 2 ** 60,
      notANumber: Number.NaN,
      infinite: Number.NEGATIVE_INFINITY,
      big: 2n ** 62n,
      huge: 2n ** 70n,
      nested: { a: [1, null] },
      mixed: [1, 'two', true, null, 2.5],
    });
    await until('one request', () => sink.stats().delivered === 1);
    const [logRecord] = allLogRecords(receiver);
    assert.ok(logRecord);
    assert.equal(logRecord.timeUnixNano, 0n, 'an unknown time is 0, not a failed export');
    assert.deepEqual(logRecord.attributes, {
      time: 'not a time',
      code: 1,
      event: 'numbers',
      negative: -5,
      unsafe: 2 ** 60,
      notANumber: Number.NaN,
      infinite: Number.NEGATIVE_INFINITY,
      big: 2n ** 62n,
      huge: String(2n ** 70n),
      nested: '{"a":[1,null]}',
      mixed: [1, 'two', true, null, 2.5],
    });
  });

  it('sends the bearer token from tokenFile', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pgwarden-otlp-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 's3cr3t-t0ken\n', { mode: 0o600 });
    const receiver = await Receiver.start(t);
    const sink = otlp(t, { url: receiver.url, tokenFile });
    sink.send(statement());
    await until('one request', () => receiver.requests.length === 1);
    assert.equal(receiver.requests[0]?.headers.authorization, 'Bearer s3cr3t-t0ken');
  });

  it('batches up to batchSize records a request, in order', async (t) => {
    const receiver = await Receiver.start(t);
    const sink = otlp(t, { url: receiver.url, batchSize: 2 });
    const records = Array.from({ length: 5 }, () => statement());
    for (const record of records) sink.send(record);
    await until('every record', () => sink.stats().delivered === 5);
    assert.deepEqual(
      receiver.requests.map((_, i) => receiver.decoded(i)[0]?.logRecords.length),
      [2, 2, 1],
    );
    assert.deepEqual(
      allLogRecords(receiver).map((r) => r.attributes.statementId),
      records.map((r) => r.statementId),
    );
  });

  it('retries the same records after 429, 502, 503 and 504, honouring Retry-After', async (t) => {
    const refusals: Answer[] = [
      { status: 502 }, // no Retry-After: the sink's own backoff
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 504, headers: { 'retry-after': new Date(0).toUTCString() } },
    ];
    const receiver = await Receiver.start(t, (i) => refusals[i] ?? { status: 200 });
    const errors: Error[] = [];
    const sink = otlp(t, { url: receiver.url, onError: (error) => errors.push(error) });
    const record = statement();
    sink.send(record);
    await until('delivered after four refusals', () => sink.stats().delivered === 1);
    assert.equal(receiver.requests.length, 5);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(
        receiver.decoded(i)[0]?.logRecords.map((r) => r.attributes),
        [asAttributes(record)],
        `request ${i} carries the same record`,
      );
    }
    assert.deepEqual(
      errors.map((e) => e.message),
      ['otlp: HTTP 502', 'otlp: HTTP 503', 'otlp: HTTP 429', 'otlp: HTTP 504'],
    );
    assert.deepEqual(sink.stats(), { delivered: 1, dropped: 0, queued: 0 });
  });

  for (const status of [400, 401, 403, 413, 500]) {
    it(`does not retry ${status} (only 429, 502, 503, 504 are retryable): the batch is dropped, the next goes through`, async (t) => {
      const receiver = await Receiver.start(t, (i) => (i === 0 ? { status } : { status: 200 }));
      const errors: Error[] = [];
      const sink = otlp(t, { url: receiver.url, onError: (error) => errors.push(error) });
      const first = statement();
      sink.send(first);
      await until('the refusal reported', () => errors.length === 1);
      assert.equal(errors[0]?.message, `otlp: HTTP ${status}, batch dropped`);
      const second = statement();
      sink.send(second);
      await until('the next record delivered', () => sink.stats().delivered === 1);
      assert.equal(receiver.requests.length, 2, 'the refused batch was not sent again');
      assert.deepEqual(
        receiver.decoded(1)[0]?.logRecords.map((r) => r.attributes),
        [asAttributes(second)],
      );
      assert.deepEqual(sink.stats(), { delivered: 1, dropped: 1, queued: 0 });
    });
  }

  it('reports a partial success and does not send the rejected records again', async (t) => {
    const partial = JSON.stringify({
      partialSuccess: { rejectedLogRecords: '1', errorMessage: 'attribute value too long' },
    });
    const receiver = await Receiver.start(t, () => ({ status: 200, body: partial }));
    const errors: Error[] = [];
    const sink = otlp(t, { url: receiver.url, onError: (error) => errors.push(error) });
    sink.send(statement());
    sink.send(statement());
    await until('the partial success reported', () => errors.length === 1);
    assert.equal(
      errors[0]?.message,
      'otlp: receiver rejected 1 log records: attribute value too long',
    );
    assert.equal(receiver.requests.length, 1);
    assert.deepEqual(sink.stats(), { delivered: 2, dropped: 0, queued: 0 });
  });

  it('a receiver that hangs: send() returns at once, the queue stays bounded, drops are counted and reported once', async (t) => {
    const receiver = await Receiver.start(t, () => 'hang');
    const errors: Error[] = [];
    const sink = otlp(t, {
      url: receiver.url,
      maxQueue: 10,
      timeoutMs: 100,
      onError: (error) => errors.push(error),
    });
    for (let i = 0; i < 25; i++) sink.send(statement());
    assert.deepEqual(sink.stats(), { delivered: 0, dropped: 15, queued: 10 });
    assert.deepEqual(
      errors.map((e) => e.message),
      ['otlp: queue full (10 records), dropping records'],
    );
    await until('the request timing out', () => errors.length >= 2);
    assert.match(errors[1]?.message ?? '', /^otlp: .*timeout/);
    assert.ok(receiver.requests.length >= 1, 'the receiver got the batch and kept it waiting');
    for (let i = 0; i < 5; i++) sink.send(statement());
    assert.equal(sink.stats().dropped, 20, 'still full, still dropping');
    assert.equal(errors.filter((e) => /queue full/.test(e.message)).length, 1);
    await sink.close();
    assert.deepEqual(sink.stats(), { delivered: 0, dropped: 30, queued: 0 });
  });

  it('a receiver that is down: reported through onError, never thrown', async (t) => {
    const gone = await Receiver.start(t);
    const url = gone.url;
    await gone.close();
    const errors: Error[] = [];
    const sink = otlp(t, { url, onError: (error) => errors.push(error) });
    assert.doesNotThrow(() => sink.send(statement()));
    await until('the failure reported', () => errors.length > 0);
    assert.match(errors[0]?.message ?? '', /^otlp: fetch failed \(ECONNREFUSED\)$/);
    await sink.close();
    assert.deepEqual(sink.stats(), { delivered: 0, dropped: 1, queued: 0 });
  });
});

describe('webhook sink', () => {
  it('retries 408, 429 and 5xx, drops a batch refused with another 4xx', async (t) => {
    const answers: Answer[] = [{ status: 500 }, { status: 400 }];
    const receiver = await Receiver.start(t, (i) => answers[i] ?? { status: 200 });
    const errors: Error[] = [];
    const sink = new WebhookSink({
      url: receiver.url,
      flushIntervalMs: 5,
      onError: (error) => errors.push(error),
    });
    t.after(() => sink.close());
    const first = statement();
    sink.send(first);
    await until('the 500 retried and the 400 dropped', () => errors.length === 2);
    const second = statement();
    sink.send(second);
    await until('the next record delivered', () => sink.stats().delivered === 1);
    assert.deepEqual(
      errors.map((e) => e.message),
      ['webhook: HTTP 500', 'webhook: HTTP 400, batch dropped'],
    );
    assert.deepEqual(
      receiver.requests.map((r) => (JSON.parse(r.body) as SinkRecord[]).map((x) => x.statementId)),
      [[first.statementId], [first.statementId], [second.statementId]],
    );
    assert.equal(receiver.requests[0]?.headers['content-type'], 'application/json');
  });
});
