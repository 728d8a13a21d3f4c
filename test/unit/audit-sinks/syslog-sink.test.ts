import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { hostname } from 'node:os';
import { describe, it, type TestContext } from 'node:test';
import type { SinkRecord } from '../../../src/audit/sinks/queued-sink.js';
import {
  SYSLOG_UDP_MAX_BYTES,
  SyslogSink,
  type SyslogSinkOptions,
} from '../../../src/audit/sinks/syslog-sink.js';

/**
 * The syslog sink against real UDP and TCP receivers in this process. Every
 * message received is parsed strictly per RFC 5424 section 6, TCP frames per
 * RFC 6587 section 3.4.1 (octet counting), and its MSG must be the record.
 */

// ---------------------------------------------------------------- RFC 5424 parser

interface SyslogMessage {
  readonly facility: number;
  readonly severity: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly structuredData: string;
  /** The MSG after its BOM; undefined when the message has none. */
  readonly msg: string | undefined;
  readonly bom: boolean;
}

const SP = 0x20;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG], nothing more, nothing less. */
function parseSyslog(octets: Buffer): SyslogMessage {
  let at = 0;
  const fail = (why: string): never =>
    assert.fail(
      `not RFC 5424: ${why} at octet ${at} of ${JSON.stringify(octets.toString('latin1', 0, 120))}`,
    );
  const expect = (octet: number, what: string): void => {
    if (octets[at] !== octet) fail(`expected ${what}`);
    at++;
  };
  const digits = (min: number, max: number, what: string): string => {
    const start = at;
    while (at < octets.length && at - start < max && isDigit(octets[at])) at++;
    if (at - start < min) fail(`expected ${what}`);
    return octets.toString('ascii', start, at);
  };
  /** A header field: NILVALUE or 1*max PRINTUSASCII (section 6). */
  const field = (max: number, what: string): string => {
    const start = at;
    while (at < octets.length && octets[at] !== SP) {
      if (!isPrintUsAscii(octets[at])) fail(`${what} has a non-PRINTUSASCII octet`);
      at++;
    }
    if (at === start) fail(`empty ${what}`);
    if (at - start > max) fail(`${what} longer than ${max}`);
    return octets.toString('ascii', start, at);
  };

  // PRI = "<" PRIVAL ">", PRIVAL 1*3DIGIT in 0..191 (section 6.2.1).
  expect(0x3c, '"<"');
  const prival = digits(1, 3, 'PRIVAL');
  if (prival.length > 1 && prival.startsWith('0')) fail('PRIVAL with a leading zero');
  if (Number(prival) > 191) fail('PRIVAL above 191');
  expect(0x3e, '">"');
  // VERSION = NONZERO-DIGIT 0*2DIGIT (section 6.2.2); this is version 1.
  const version = digits(1, 3, 'VERSION');
  if (version !== '1') fail(`VERSION ${version}`);
  expect(SP, 'SP after VERSION');
  const timestamp = field(64, 'TIMESTAMP');
  if (timestamp !== '-') assertRfc3339(timestamp);
  expect(SP, 'SP after TIMESTAMP');
  const hostname = field(255, 'HOSTNAME');
  expect(SP, 'SP after HOSTNAME');
  const appName = field(48, 'APP-NAME');
  expect(SP, 'SP after APP-NAME');
  const procId = field(128, 'PROCID');
  expect(SP, 'SP after PROCID');
  const msgId = field(32, 'MSGID');
  expect(SP, 'SP after MSGID');

  // STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT (section 6.3).
  const sdStart = at;
  if (octets[at] === 0x2d) at++;
  else {
    if (octets[at] !== 0x5b) fail('expected STRUCTURED-DATA');
    while (octets[at] === 0x5b) {
      at++;
      sdName(32, 'SD-ID');
      while (octets[at] === SP) {
        at++;
        sdName(32, 'PARAM-NAME');
        expect(0x3d, '"="');
        expect(0x22, 'opening quote');
        const start = at;
        while (at < octets.length && octets[at] !== 0x22) {
          if (octets[at] === 0x5c) {
            at++;
            if (![0x22, 0x5c, 0x5d].includes(octets[at] ?? -1)) fail('bad escape in PARAM-VALUE');
          } else if (octets[at] === 0x5d) fail('unescaped "]" in PARAM-VALUE');
          at++;
        }
        utf8.decode(octets.subarray(start, at));
        expect(0x22, 'closing quote');
      }
      expect(0x5d, '"]"');
    }
  }
  const structuredData = octets.toString('utf8', sdStart, at);

  // [SP MSG], MSG = MSG-ANY / MSG-UTF8, MSG-UTF8 = BOM UTF-8-STRING (section 6.4).
  let msg: string | undefined;
  let bom = false;
  if (at < octets.length) {
    expect(SP, 'SP before MSG');
    const rest = octets.subarray(at);
    bom = rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf;
    if (bom) {
      try {
        msg = utf8.decode(rest.subarray(3));
      } catch {
        fail('MSG after a BOM is not UTF-8');
      }
    }
  }
  const pri = Number(prival);
  return {
    facility: pri >> 3,
    severity: pri & 7,
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    structuredData,
    msg,
    bom,
  };

  function sdName(max: number, what: string): void {
    const start = at;
    while (at < octets.length && isSdNameOctet(octets[at])) at++;
    if (at === start || at - start > max) fail(`bad ${what}`);
  }
}

/** TIMESTAMP per section 6.2.3: FULL-DATE "T" FULL-TIME, values in range, no leap second. */
function assertRfc3339(timestamp: string): void {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2}):(\d{2}))$/.exec(
      timestamp,
    );
  assert.ok(match, `TIMESTAMP ${timestamp} is not RFC 3339 as RFC 5424 section 6.2.3 allows it`);
  const [
    year = 0,
    month = 0,
    day = 0,
    hour = 0,
    minute = 0,
    second = 0,
    offsetHour = 0,
    offsetMinute = 0,
  ] = match.slice(1).map((part) => Number(part ?? 0));
  assert.ok(month >= 1 && month <= 12, `month in ${timestamp}`);
  assert.ok(
    day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate(),
    `day in ${timestamp}`,
  );
  assert.ok(hour <= 23 && minute <= 59 && second <= 59, `time in ${timestamp}`);
  assert.ok(offsetHour <= 23 && offsetMinute <= 59, `offset in ${timestamp}`);
}

function isDigit(octet: number | undefined): boolean {
  return octet !== undefined && octet >= 0x30 && octet <= 0x39;
}

function isPrintUsAscii(octet: number | undefined): boolean {
  return octet !== undefined && octet >= 33 && octet <= 126;
}

function isSdNameOctet(octet: number | undefined): boolean {
  return isPrintUsAscii(octet) && octet !== 0x3d && octet !== 0x5d && octet !== 0x22;
}

// ---------------------------------------------------------------- receivers

/** Waits for a condition, up to a bound; never measures how long it took. */
async function until(what: string, condition: () => boolean, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** RFC 5426: one syslog message per datagram. */
class UdpReceiver {
  readonly datagrams: Buffer[] = [];
  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (datagram) => this.datagrams.push(datagram));
  }

  static async start(t: TestContext): Promise<UdpReceiver> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const receiver = new UdpReceiver(socket);
    t.after(() => receiver.close());
    return receiver;
  }

  get port(): number {
    return this.socket.address().port;
  }

  private closed = false;
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** RFC 6587 section 3.4.1: MSG-LEN SP SYSLOG-MSG, MSG-LEN = NONZERO-DIGIT *DIGIT octets. */
class TcpReceiver {
  readonly frames: Buffer[] = [];
  readonly framingErrors: string[] = [];
  readonly connections = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    private readonly reading: boolean,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** `reading: false` accepts connections and never reads from them. */
  static async start(t: TestContext, reading = true): Promise<TcpReceiver> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new TcpReceiver(server, reading);
    t.after(() => receiver.close());
    return receiver;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => undefined);
    if (!this.reading) {
      socket.pause();
      return;
    }
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const space = pending.indexOf(SP);
        if (space === -1) {
          if (pending.length > 0 && !/^[1-9]\d*$/.test(pending.toString('latin1'))) {
            this.framingErrors.push(
              `bad MSG-LEN ${JSON.stringify(pending.toString('latin1', 0, 20))}`,
            );
            socket.destroy();
          }
          return;
        }
        const header = pending.toString('latin1', 0, space);
        if (!/^[1-9]\d*$/.test(header)) {
          this.framingErrors.push(`bad MSG-LEN ${JSON.stringify(header.slice(0, 20))}`);
          socket.destroy();
          return;
        }
        const length = Number(header);
        if (pending.length < space + 1 + length) return;
        this.frames.push(pending.subarray(space + 1, space + 1 + length));
        pending = pending.subarray(space + 1 + length);
      }
    });
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
    objects: ['public.accounts'],
    statement: 'SELECT $1::int AS i',
    outcome: 'SELECT 1',
    error: false,
    rows: 1,
    durationMs: 0.25,
    ...fields,
  };
}

function sink(
  t: TestContext,
  options: Partial<SyslogSinkOptions> & Pick<SyslogSinkOptions, 'protocol' | 'port'>,
): SyslogSink {
  const created = new SyslogSink({ host: '127.0.0.1', flushIntervalMs: 5, ...options });
  t.after(() => created.close());
  return created;
}

/** The received message, parsed, checked against what every pgwarden message carries, and its record. */
function received(
  octets: Buffer,
  expectedHost = headerHostname(),
): {
  message: SyslogMessage;
  record: Record<string, unknown>;
} {
  const message = parseSyslog(octets);
  assert.equal(message.facility, 16, 'facility local0');
  assert.equal(message.hostname, expectedHost);
  assert.equal(message.appName, 'pgwarden');
  assert.equal(message.procId, String(process.pid));
  assert.equal(message.structuredData, '-');
  assert.ok(message.bom, 'MSG is UTF-8 and starts with a BOM (RFC 5424 section 6.4)');
  assert.ok(message.msg !== undefined);
  return { message, record: JSON.parse(message.msg) as Record<string, unknown> };
}

/** What RFC 5424 lets through of this machine's name. */
function headerHostname(): string {
  const name = hostname()
    .replace(/[^\x21-\x7e]/g, '')
    .slice(0, 255);
  return name === '' ? '-' : name;
}

function byStatementId(records: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return [...records].sort((a, b) => Number(a.statementId) - Number(b.statementId));
}

const NON_ASCII = {
  user: 'jörg',
  applicationName: 'psql — Ünïcödé',
  statement: "SELECT 'Grüße, 世界 🐘', E'\\n\\t\"quoted\"'",
};

// ---------------------------------------------------------------- tests

describe('syslog sink over UDP (RFC 5426)', () => {
  it('sends one datagram per record, each a strict RFC 5424 message whose MSG is the record', async (t) => {
    const receiver = await UdpReceiver.start(t);
    const syslog = sink(t, { protocol: 'udp', port: receiver.port });
    const records = [
      statement(),
      statement({ error: true, outcome: '42P01', rows: null }),
      { time: new Date().toISOString(), code: 5002, event: 'session.closed', statements: 2 },
    ];
    for (const record of records) syslog.send(record);
    await until('3 datagrams', () => receiver.datagrams.length === 3);

    const parsed = receiver.datagrams.map((datagram) => received(datagram));
    const byEvent = (event: string, error: boolean) =>
      parsed.find((p) => p.record.event === event && (p.record.error === true) === error);
    const ok = byEvent('statement', false);
    const failed = byEvent('statement', true);
    const closed = byEvent('session.closed', false);
    assert.ok(ok && failed && closed);
    assert.equal(ok.message.severity, 5, 'notice');
    assert.equal(failed.message.severity, 4, 'warning for a failed statement');
    assert.equal(closed.message.severity, 5);
    assert.equal(ok.message.msgId, 'statement');
    assert.equal(closed.message.msgId, 'session.closed');
    assert.equal(ok.message.timestamp, records[0]?.time);
    assert.deepEqual(ok.record, records[0]);
    assert.deepEqual(failed.record, records[1]);
    assert.deepEqual(closed.record, records[2]);
    await until('delivery counted', () => syslog.stats().delivered === 3);
    assert.deepEqual(syslog.stats(), { delivered: 3, dropped: 0, queued: 0 });
  });

  it('carries non-ASCII text in the MSG only, and keeps header fields PRINTUSASCII and within their lengths', async (t) => {
    const receiver = await UdpReceiver.start(t);
    const hosts = ['db ☃ host.example', 'h'.repeat(300), '☃'];
    const expected = ['dbhost.example', 'h'.repeat(255), '-'];
    const event = 'ünïcode event with spaces, and far longer than thirty-two octets';
    for (const name of hosts) {
      sink(t, { protocol: 'udp', port: receiver.port, hostname: name }).send(
        statement({ ...NON_ASCII, event }),
      );
    }
    await until('3 datagrams', () => receiver.datagrams.length === 3);
    const seen = receiver.datagrams.map((datagram) => parseSyslog(datagram).hostname).sort();
    assert.deepEqual(seen, [...expected].sort());
    for (const datagram of receiver.datagrams) {
      const { message, record } = received(datagram, parseSyslog(datagram).hostname);
      assert.equal(message.msgId, 'ncodeeventwithspaces,andfarlonge');
      assert.equal(record.event, event);
      assert.equal(record.statement, NON_ASCII.statement);
      assert.equal(record.user, 'jörg');
      assert.equal(record.applicationName, NON_ASCII.applicationName);
    }
  });

  it(`cuts a very long statement to fit one datagram (${SYSLOG_UDP_MAX_BYTES} octets), keeping valid JSON and UTF-8`, async (t) => {
    const receiver = await UdpReceiver.start(t);
    const syslog = sink(t, { protocol: 'udp', port: receiver.port });
    const long = `SELECT '${'é🐘x'.repeat(40_000)}'`;
    const record = statement({ statement: long, applicationName: 'ünï' });
    syslog.send(record);
    syslog.send(statement());
    await until('2 datagrams', () => receiver.datagrams.length === 2);
    const [cut, short] = byStatementId(
      receiver.datagrams.map((datagram) => {
        assert.ok(datagram.length <= SYSLOG_UDP_MAX_BYTES, `datagram of ${datagram.length}`);
        return { ...received(datagram).record, octets: datagram.length };
      }),
    );
    assert.ok(cut && short);
    assert.ok(
      Number(cut.octets) > SYSLOG_UDP_MAX_BYTES - 16,
      'the datagram is filled, not emptied',
    );
    assert.deepEqual(cut.truncatedFields, ['statement']);
    const text = String(cut.statement);
    assert.ok(text.length > 10_000 && long.startsWith(text), 'a prefix of the statement');
    assert.doesNotMatch(text, /[\ud800-\udbff]$/, 'no surrogate pair split');
    const { statement: _s, truncatedFields: _t, octets: _o, ...rest } = cut;
    const { statement: _original, ...expected } = record;
    assert.deepEqual(rest, expected, 'every other field whole');
    assert.equal(short.truncatedFields, undefined);
    await until('both delivered', () => syslog.stats().delivered === 2);
  });

  it('does not throw for a receiver that is down, and reports a send that fails through onError', async (t) => {
    // RFC 5426 has no acknowledgement: a closed port on the receiver goes unnoticed.
    const gone = await UdpReceiver.start(t);
    const port = gone.port;
    await gone.close();
    const quiet = sink(t, { protocol: 'udp', port });
    assert.doesNotThrow(() => quiet.send(statement()));
    await until('the datagram sent', () => quiet.stats().delivered === 1);

    // A destination the kernel refuses (broadcast without SO_BROADCAST) fails the send itself.
    const errors: Error[] = [];
    const refused = sink(t, {
      protocol: 'udp',
      port: 514,
      host: '255.255.255.255',
      onError: (error) => {
        errors.push(error);
        throw new Error('a throwing onError must not break the sink');
      },
    });
    assert.doesNotThrow(() => refused.send(statement()));
    await until('the failure reported', () => errors.length > 0);
    assert.match(errors[0]?.message ?? '', /^syslog: send E[A-Z]+/);
    assert.deepEqual(refused.stats(), { delivered: 0, dropped: 0, queued: 1 });
    await refused.close();
    assert.deepEqual(refused.stats(), { delivered: 0, dropped: 1, queued: 0 });
    assert.doesNotThrow(() => refused.send(statement()), 'send after close is ignored');
    await refused.close();
  });
});

describe('syslog sink over TCP (RFC 6587 octet counting)', () => {
  it('frames each message as MSG-LEN SP SYSLOG-MSG, several to a write, and keeps order', async (t) => {
    const receiver = await TcpReceiver.start(t);
    const syslog = sink(t, { protocol: 'tcp', port: receiver.port, batchSize: 4 });
    const records = Array.from({ length: 10 }, (_, i) =>
      statement(i === 3 ? { ...NON_ASCII, error: true } : {}),
    );
    for (const record of records) syslog.send(record);
    await until('10 frames', () => receiver.frames.length === 10);
    assert.deepEqual(receiver.framingErrors, []);
    const parsed = receiver.frames.map((frame) => received(frame));
    assert.deepEqual(
      parsed.map((p) => p.record),
      records,
      'every record, in order',
    );
    assert.deepEqual(
      parsed.map((p) => p.message.severity),
      records.map((r) => (r.error === true ? 4 : 5)),
    );
    assert.equal(receiver.connections.size, 1, 'one connection for every batch');
    await until('delivery counted', () => syslog.stats().delivered === 10);
  });

  it('sends a very long statement whole, unless maxMessageBytes bounds it', async (t) => {
    const receiver = await TcpReceiver.start(t);
    const whole = sink(t, { protocol: 'tcp', port: receiver.port });
    const long = `SELECT '${'ß'.repeat(300_000)}'`;
    const record = statement({ statement: long });
    whole.send(record);
    await until('1 frame', () => receiver.frames.length === 1);
    assert.deepEqual(received(receiver.frames[0] ?? Buffer.alloc(0)).record, record);

    // 2048 octets: what every receiver should accept (RFC 5424 section 6.1).
    const bounded = sink(t, { protocol: 'tcp', port: receiver.port, maxMessageBytes: 2048 });
    bounded.send(record);
    await until('2 frames', () => receiver.frames.length === 2);
    const frame = receiver.frames[1] ?? Buffer.alloc(0);
    assert.ok(frame.length <= 2048 && frame.length > 2000, `a frame of ${frame.length}`);
    const cut = received(frame).record;
    assert.deepEqual(cut.truncatedFields, ['statement']);
    assert.ok(long.startsWith(String(cut.statement)));
    assert.deepEqual(receiver.framingErrors, []);
  });

  it('does not throw for a receiver that is down: onError reports it, close() drops what is left', async (t) => {
    const gone = await TcpReceiver.start(t);
    const port = gone.port;
    await gone.close();
    const errors: Error[] = [];
    const syslog = sink(t, { protocol: 'tcp', port, onError: (error) => errors.push(error) });
    assert.doesNotThrow(() => {
      for (let i = 0; i < 3; i++) syslog.send(statement());
    });
    await until('the failure reported', () => errors.length > 0);
    assert.match(errors[0]?.message ?? '', /^syslog: connect ECONNREFUSED/);
    assert.deepEqual(syslog.stats(), { delivered: 0, dropped: 0, queued: 3 });
    await syslog.close();
    assert.deepEqual(syslog.stats(), { delivered: 0, dropped: 3, queued: 0 });
  });

  it('a receiver that stops reading: the write times out, the queue stays bounded, drops are reported once', async (t) => {
    const receiver = await TcpReceiver.start(t, false);
    const errors: Error[] = [];
    const syslog = sink(t, {
      protocol: 'tcp',
      port: receiver.port,
      maxQueue: 100,
      batchSize: 10,
      timeoutMs: 200,
      onError: (error) => errors.push(error),
    });
    const big = 'x'.repeat(256 * 1024); // 100 of these are far more than the socket buffers hold
    for (let i = 0; i < 150; i++) syslog.send(statement({ statement: big }));
    assert.deepEqual(syslog.stats(), { delivered: 0, dropped: 50, queued: 100 });
    assert.deepEqual(
      errors.map((e) => e.message),
      ['syslog: queue full (100 records), dropping records'],
      'the overflow is reported once, not once a record',
    );
    await until('the stalled write reported', () =>
      errors.some((e) => e.message === 'syslog: write timed out'),
    );
    const stalled = syslog.stats();
    assert.ok(stalled.queued > 0 && stalled.queued <= 100);
    await syslog.close();
    const closed = syslog.stats();
    assert.equal(closed.queued, 0);
    assert.equal(closed.delivered + closed.dropped, 150);
  });
});
