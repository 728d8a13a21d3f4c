import { FramingError } from '../../protocol/framing-error.js';

/** What a tap wants of each message type: nothing, a notice, or the body (up to a cap). */
export const TapWant = { NONE: 0, NOTIFY: 1, BODY: 2 } as const;

export interface MessageTap {
  /** Indexed by type byte. */
  readonly wants: Uint8Array;
  /** Largest body copied for a BODY message; longer bodies arrive truncated. */
  readonly maxBody: number;
  /** Called when a wanted message is complete; `body` only for BODY types. */
  readonly onMessage: (type: number, body: Buffer | undefined, length: number) => void;
}

/**
 * Follows the bodies of some message types as they stream past, slice by
 * slice, without any copy (the honeytoken watch reads DataRow values this way).
 */
export interface BodyWatch {
  /** Indexed by type byte: 1 to follow that type. Read at every header, so it may change. */
  readonly wants: Uint8Array;
  begin(type: number, bodyLength: number): void;
  /** Bytes [start, end) of `chunk` are the next part of the body; `chunk` must not be kept. */
  body(chunk: Buffer, start: number, end: number): void;
  end(): void;
}

/**
 * Follows message boundaries in a typed protocol stream without buffering
 * it: the relay forwards every chunk as it arrived (no copy, no reassembly)
 * and the scanner only reads the 5-byte headers, so a 100 MB message costs
 * the same as a small one. Each header's declared length is checked against
 * the limit the moment the header is complete (PostgreSQL docs 55.7).
 *
 * An optional tap (the audit) asks for some message types: it is told when
 * one completes, and for a few small ones (Query, Parse, CommandComplete…)
 * gets a bounded copy of the body. Nothing else is copied. An optional body
 * watch (honeytokens) is handed the slices of some bodies as they pass.
 */
export class MessageScanner {
  /** Bytes of the current message body still to come. */
  private remaining = 0;
  private readonly header = Buffer.alloc(5);
  private headerFill = 0;
  /** Type byte of the message being passed, or of the last one completed. */
  lastType = 0;
  /** The first body byte of the last ReadyForQuery ('I', 'T' or 'E'), once seen. */
  transactionStatus = 0;
  private wantStatus = false;
  private want: number = 0;
  private length = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  /** The body watch follows the current message. */
  private watching = false;

  constructor(
    private readonly maxMessageLength: number,
    private readonly tap?: MessageTap,
    private readonly watch?: BodyWatch,
  ) {}

  /** True when the stream stands between two messages. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }

  /** Scans a chunk; throws FramingError for an over-long or malformed header. */
  scan(chunk: Buffer): void {
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      if (this.remaining > 0) {
        if (this.wantStatus) {
          this.transactionStatus = chunk[offset] as number;
          this.wantStatus = false;
        }
        const step = Math.min(this.remaining, end - offset);
        if (this.watching) this.watch?.body(chunk, offset, offset + step);
        if (this.body !== undefined && this.bodyFill < this.body.length) {
          const take = Math.min(step, this.body.length - this.bodyFill);
          chunk.copy(this.body, this.bodyFill, offset, offset + take);
          this.bodyFill += take;
        }
        this.remaining -= step;
        offset += step;
        if (this.remaining === 0) {
          if (this.watching) this.endWatch();
          this.complete();
        }
        continue;
      }
      // Fast path: a whole header inside this chunk.
      let type: number;
      let length: number;
      if (this.headerFill === 0 && end - offset >= 5) {
        type = chunk[offset] as number;
        length = chunk.readInt32BE(offset + 1);
        offset += 5;
      } else {
        const take = Math.min(5 - this.headerFill, end - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < 5) return;
        this.headerFill = 0;
        type = this.header[0] as number;
        length = this.header.readInt32BE(1);
      }
      if (length < 4) {
        throw new FramingError('malformed', `message length ${length} is below 4`, length >>> 0);
      }
      if (length > this.maxMessageLength) {
        throw new FramingError(
          'too-large',
          `message of ${length} bytes exceeds the limit of ${this.maxMessageLength}`,
          length,
        );
      }
      this.lastType = type;
      this.remaining = length - 4;
      this.wantStatus = type === 0x5a && this.remaining > 0; // ReadyForQuery
      if (this.watch !== undefined && this.watch.wants[type] === 1) {
        this.watch.begin(type, this.remaining);
        if (this.remaining > 0) this.watching = true;
        else this.watch.end();
      }
      if (this.tap !== undefined) {
        this.want = this.tap.wants[type] ?? 0;
        this.length = length;
        this.body =
          this.want === TapWant.BODY
            ? Buffer.allocUnsafe(Math.min(length - 4, this.tap.maxBody))
            : undefined;
        this.bodyFill = 0;
        if (this.remaining === 0) this.complete();
      }
    }
  }

  private endWatch(): void {
    this.watching = false;
    this.watch?.end();
  }

  private complete(): void {
    if (this.tap === undefined || this.want === TapWant.NONE) return;
    const body = this.body;
    this.body = undefined;
    this.tap.onMessage(this.lastType, body, this.length);
  }
}
