import dgram from 'node:dgram';
import net from 'node:net';
import { hostname } from 'node:os';
import { QueuedSink, type QueuedSinkOptions, type SinkRecord } from './queued-sink.js';

export interface SyslogSinkOptions extends QueuedSinkOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'udp' | 'tcp';
  /** HOSTNAME of each message; the machine's name by default. */
  readonly hostname?: string;
  /** Longest message in octets; SYSLOG_UDP_MAX_BYTES over UDP, unbounded over TCP by default. */
  readonly maxMessageBytes?: number;
  /** Bounds a TCP connect, and a write to a receiver that stopped reading. */
  readonly timeoutMs?: number;
}

/**
 * The largest UDP payload over IPv4, 65535 - 8 (UDP header) - 20 (IP header):
 * RFC 5426 section 3.2 bounds a syslog message by what one datagram can carry.
 */
export const SYSLOG_UDP_MAX_BYTES = 65_507;

/** RFC 5424 section 6: NILVALUE, and the octets allowed in header fields (PRINTUSASCII). */
const NILVALUE = '-';
const NOT_PRINTUSASCII = /[^\x21-\x7e]/g;
/** RFC 5424 section 6.4: a UTF-8 MSG starts with a byte order mark. */
const BOM = '\ufeff';
/** RFC 5424 section 6.2.3: FULL-DATE "T" FULL-TIME, upper case, at most six fraction digits. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * RFC 5424 syslog: facility local0 (16), severity notice (5) or warning (4)
 * for failed statements, APP-NAME pgwarden, MSGID the event name, MSG the
 * record as JSON. TCP uses octet-counting framing (RFC 6587 section 3.4.1).
 * A record too long for one message has its longest strings cut, and names
 * them in `truncatedFields`, so the MSG is still one JSON object.
 */
export class SyslogSink extends QueuedSink {
  readonly name = 'syslog';
  private readonly host: string;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private socket: net.Socket | undefined;
  private udp: dgram.Socket | undefined;

  constructor(private readonly syslog: SyslogSinkOptions) {
    super(syslog);
    this.host = headerField(syslog.hostname ?? hostname(), 255);
    this.timeoutMs = syslog.timeoutMs ?? 5000;
    this.maxBytes =
      syslog.maxMessageBytes ??
      (syslog.protocol === 'udp' ? SYSLOG_UDP_MAX_BYTES : Number.POSITIVE_INFINITY);
    if (syslog.protocol === 'udp') {
      this.udp = dgram.createSocket(net.isIPv6(syslog.host) ? 'udp6' : 'udp4');
      this.udp.unref();
      this.udp.on('error', () => undefined);
    }
  }

  /** One RFC 5424 message (section 6): HEADER SP STRUCTURED-DATA SP MSG. */
  format(record: SinkRecord): string {
    const severity = record.error === true ? 4 : 5;
    const pri = 16 * 8 + severity;
    const header = `<${pri}>1 ${timestamp(record.time)} ${this.host} pgwarden ${process.pid} ${headerField(String(record.event), 32)} ${NILVALUE} ${BOM}`;
    return header + fitJson(record, this.maxBytes - Buffer.byteLength(header));
  }

  protected async deliver(batch: readonly SinkRecord[]): Promise<void> {
    const messages = batch.map((record) => this.format(record));
    if (this.udp !== undefined) {
      const udp = this.udp;
      for (const message of messages) {
        await new Promise<void>((resolve, reject) =>
          udp.send(message, this.syslog.port, this.syslog.host, (error) =>
            error ? reject(error) : resolve(),
          ),
        );
      }
      return;
    }
    const socket = await this.connection();
    const framed = messages.map((m) => `${Buffer.byteLength(m)} ${m}`).join('');
    await new Promise<void>((resolve, reject) => {
      // A receiver that stops reading would hold the write (and the queue) forever.
      const timer = setTimeout(() => {
        const error = new Error('write timed out');
        socket.destroy(error);
        reject(error);
      }, this.timeoutMs);
      socket.write(framed, (error) => {
        clearTimeout(timer);
        // Node completes a write on a destroyed socket without an error: the data may be lost.
        if (error || socket.destroyed)
          reject(error ?? socket.errored ?? new Error('connection lost'));
        else resolve();
      });
    });
  }

  override async close(): Promise<void> {
    await super.close();
    this.socket?.end();
    this.socket = undefined;
    this.udp?.close();
    this.udp = undefined;
  }

  private connection(): Promise<net.Socket> {
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.syslog.host, port: this.syslog.port });
      socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error('connection timed out')));
      socket.on('error', reject);
      socket.once('connect', () => {
        socket.setTimeout(0);
        // Later errors reach the write callbacks; without a listener they would crash the process.
        socket.off('error', reject);
        socket.on('error', () => undefined);
        socket.unref();
        this.socket = socket;
        resolve(socket);
      });
    });
  }
}

/** A header field per RFC 5424 section 6: 1*max PRINTUSASCII, or NILVALUE when nothing is left. */
function headerField(value: string, max: number): string {
  const field = value.replace(NOT_PRINTUSASCII, '').slice(0, max);
  return field === '' ? NILVALUE : field;
}

function timestamp(time: string): string {
  if (RFC3339.test(time) && !Number.isNaN(Date.parse(time))) return time;
  const parsed = new Date(time);
  const year = parsed.getUTCFullYear();
  // Not an RFC 3339 time: the time it was sent is the closest we have.
  return Number.isNaN(year) || year < 0 || year > 9999
    ? new Date().toISOString()
    : parsed.toISOString();
}

/** The record as JSON in at most `maxBytes` octets, cutting its longest strings when it is longer. */
function fitJson(record: SinkRecord, maxBytes: number): string {
  const json = stringify(record);
  if (Buffer.byteLength(json) <= maxBytes) return json;
  const fields: Record<string, unknown> = { ...record };
  const truncatedFields: string[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const longest = longestString(fields);
    if (longest === undefined) break;
    if (!truncatedFields.includes(longest)) truncatedFields.push(longest);
    const value = fields[longest] as string;
    const excess = Buffer.byteLength(stringify({ ...fields, truncatedFields })) - maxBytes;
    if (excess <= 0) break;
    fields[longest] = cut(value, Buffer.byteLength(JSON.stringify(value)) - excess);
    const fitted = stringify({ ...fields, truncatedFields });
    if (Buffer.byteLength(fitted) <= maxBytes) return fitted;
  }
  // Nothing long enough to cut: the identifying fields only.
  return stringify({
    time: record.time,
    code: record.code,
    event: record.event,
    truncatedFields: ['*'],
  });
}

function longestString(fields: Record<string, unknown>): string | undefined {
  let longest: string | undefined;
  let length = 0;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string' && value.length > length) {
      longest = key;
      length = value.length;
    }
  }
  return length > 0 ? longest : undefined;
}

/** The longest prefix whose JSON form fits in `jsonBytes`, never splitting a surrogate pair. */
function cut(value: string, jsonBytes: number): string {
  let low = 0;
  // Every character takes at least one octet, which bounds the search.
  let high = Math.max(0, Math.min(value.length, jsonBytes));
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(JSON.stringify(value.slice(0, middle))) <= jsonBytes) low = middle;
    else high = middle - 1;
  }
  const last = value.charCodeAt(low - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? low - 1 : low);
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}
