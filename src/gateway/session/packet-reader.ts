import type { Duplex } from 'node:stream';
import { type Frame, MessageFramer } from '../../protocol/framer.js';

/** PostgreSQL refuses startup packets over 10000 bytes (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_MESSAGE = 10_000;

/**
 * Authentication messages may be longer: PostgreSQL accepts SASL data and
 * passwords up to PG_MAX_AUTH_TOKEN_LENGTH (65535) bytes, and an access token
 * with many group claims can pass 10000 bytes.
 */
export const MAX_AUTH_MESSAGE = 65_535 + 4;

export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

/** The first byte of a TLS ClientHello record: a client starting TLS directly (PostgreSQL 17 sslnegotiation=direct). */
const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Reads whole messages from a client during the startup and authentication
 * phases, where every message is small: a framer capped at 10000 bytes for
 * the startup packet and 65539 for authentication messages, so an
 * unauthenticated peer cannot make the gateway buffer more.
 */
export class PacketReader {
  private readonly framer: MessageFramer;
  private readonly queue: Frame[] = [];
  private waiter: { resolve: (frame: Frame) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private firstChunk = true;
  private readonly onData = (chunk: Buffer): void => this.data(chunk);
  private readonly onEnd = (): void =>
    this.fail(new ConnectionClosedError('the client closed the connection'));
  private readonly onError = (error: Error): void => this.fail(error);
  /** Set when the very first byte says the client starts TLS directly. */
  directTls: Buffer | undefined;

  constructor(
    private readonly stream: Duplex,
    options: { readonly typed?: boolean; readonly detectDirectTls?: boolean } = {},
  ) {
    this.framer = new MessageFramer({
      maxMessageLength: MAX_STARTUP_MESSAGE,
      mode: options.typed === true ? 'typed' : 'startup',
    });
    this.firstChunk = options.detectDirectTls === true;
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  /** The next whole message; rejects when the peer leaves or breaks the framing. */
  next(): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Bytes received beyond the messages already taken (CVE-2021-23214 check before a TLS handshake). */
  hasBuffered(): boolean {
    return this.queue.length > 0 || this.framer.pending() > 0;
  }

  /** Whole messages received but not taken yet. */
  drain(): Frame[] {
    return this.queue.splice(0);
  }

  setTyped(): void {
    this.framer.mode = 'typed';
    this.framer.maxMessageLength = MAX_AUTH_MESSAGE;
  }

  /** Stops reading and pauses the stream (before a TLS upgrade or the relay takes it over). */
  detach(): void {
    this.stream.pause();
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
  }

  private data(chunk: Buffer): void {
    if (this.firstChunk) {
      this.firstChunk = false;
      if (chunk[0] === TLS_HANDSHAKE_RECORD) {
        this.directTls = chunk;
        this.detach();
        this.deliver({ type: null, body: Buffer.alloc(0), raw: chunk });
        return;
      }
    }
    let frames: Frame[];
    try {
      frames = this.framer.push(chunk);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    for (const frame of frames) this.deliver(frame);
  }

  private deliver(frame: Frame): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve(frame);
    } else {
      this.queue.push(frame);
    }
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}
