import { FramingError } from '../../protocol/framing-error.js';

/**
 * Follows message boundaries in a typed protocol stream without buffering
 * it: the relay forwards every chunk as it arrives (no copy, no reassembly)
 * and the scanner only reads the 5-byte headers, so a 100 MB message costs
 * the same as a small one. Each header's declared length is checked against
 * the limit the moment the header is complete (PostgreSQL docs 55.7).
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

  constructor(private readonly maxMessageLength: number) {}

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
        this.remaining -= step;
        offset += step;
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
      if (length < 4)
        throw new FramingError('malformed', `message length ${length} is below 4`, length >>> 0);
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
    }
  }
}
