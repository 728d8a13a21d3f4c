import dgram from 'node:dgram';
import net from 'node:net';
import { hostname } from 'node:os';
import { QueuedSink, type QueuedSinkOptions, type SinkRecord } from './queued-sink.js';

export interface SyslogSinkOptions extends QueuedSinkOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'udp' | 'tcp';
}

/**
 * RFC 5424 syslog: facility local0 (16), severity notice (5) or warning (4)
 * for failed statements, APP-NAME pgwarden, MSGID the event name, MSG the
 * record as JSON. TCP uses octet-counting framing (RFC 6587 section 3.4.1).
 */
export class SyslogSink extends QueuedSink {
  readonly name = 'syslog';
  private readonly host = hostname();
  private socket: net.Socket | undefined;
  private readonly udp: dgram.Socket | undefined;

  constructor(private readonly syslog: SyslogSinkOptions) {
    super(syslog);
    if (syslog.protocol === 'udp') {
      this.udp = dgram.createSocket(net.isIPv6(syslog.host) ? 'udp6' : 'udp4');
      this.udp.unref();
      this.udp.on('error', () => undefined);
    }
  }

  /** One RFC 5424 message. */
  format(record: SinkRecord): string {
    const severity = record.error === true ? 4 : 5;
    const pri = 16 * 8 + severity;
    const msgid = String(record.event)
      .replace(/[^\x21-\x7e]/g, '_')
      .slice(0, 32);
    return `<${pri}>1 ${record.time} ${this.host} pgwarden ${process.pid} ${msgid} - ${JSON.stringify(record)}`;
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
    await new Promise<void>((resolve, reject) =>
      socket.write(framed, (error) => (error ? reject(error) : resolve())),
    );
  }

  override async close(): Promise<void> {
    await super.close();
    this.socket?.end();
    this.udp?.close();
  }

  private connection(): Promise<net.Socket> {
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.syslog.host, port: this.syslog.port });
      socket.setTimeout(5000, () => socket.destroy(new Error('syslog connection timed out')));
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.unref();
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }
}
