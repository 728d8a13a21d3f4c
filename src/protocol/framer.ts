import { FramingError } from './framing-error.js';
import { StartupRequestCode } from './message-types.js';

export type FramerMode = 'startup' | 'typed';

export interface Frame {
  /** The type byte, or null for an untyped startup packet. */
  readonly type: number | null;
  /** The payload after the header. */
  readonly body: Buffer;
  /** The whole message as it was on the wire. */
  readonly raw: Buffer;
}

export interface MessageFramerOptions {
  /** The largest declared length (the Int32, which counts itself) accepted. At least 8. */
  readonly maxMessageLength: number;
  readonly mode?: FramerMode;
}

const LENGTH_SIZE = 4;
/** A startup packet holds at least its length and the Int32 version or request code. */
const MIN_STARTUP_LENGTH = 8;
const MAX_LIMIT = 0x7fffffff;

/**
 * Cuts a byte stream into protocol messages (PostgreSQL docs 55.7 "Message
 * Formats"; 55.2.1 "Start-up" for the untyped packets).
 *
 * - `startup`: untyped packets, Int32 length (counting itself) then the body,
 *   which starts with a protocol version or a request code.
 * - `typed`: Byte1 type, Int32 length (counting itself but not the type).
 *
 * After a StartupMessage (any startup packet that is not an SSLRequest,
 * GSSENCRequest or CancelRequest) the framer switches itself to `typed`,
 * so bytes that follow it in the same chunk are framed correctly. The caller
 * may also set `mode` itself, but only between messages.
 *
 * A message's length is checked as soon as its header is complete, before
 * any of its body is buffered, so at most one header and `maxMessageLength`
 * bytes of a partial message are ever held. Frames of a message that lies
 * inside one chunk are views into that chunk (no copy): the caller must not
 * reuse the chunk's memory while it still needs the frames. A message spanning
 * chunks is copied, so held bytes never alias a chunk the caller passed in.
 *
 * After a FramingError the stream cannot be resynchronised: every later
 * `push` throws the same error.
 *
 * Security note for the caller: after an SSLRequest or GSSENCRequest frame,
 * check that it was the last frame and `pending()` is 0 before starting the
 * handshake; bytes sent ahead of it were not protected (CVE-2021-23214).
 */
export class MessageFramer {
  /** May be raised between messages (the authentication phase allows longer ones than startup). */
  maxMessageLength: number;
  #mode: FramerMode;
  /** The header of the partial message, and how much of it has arrived. */
  readonly #header = Buffer.alloc(1 + LENGTH_SIZE);
  #headerFill = 0;
  /** The declared length of the partial message, once its header is complete. */
  #declared = 0;
  /** Copies of the partial message's body bytes received so far. */
  #pieces: Buffer[] = [];
  #piecesLength = 0;
  #failure: FramingError | undefined;

  constructor(options: MessageFramerOptions) {
    const { maxMessageLength } = options;
    if (
      !Number.isSafeInteger(maxMessageLength) ||
      maxMessageLength < MIN_STARTUP_LENGTH ||
      maxMessageLength > MAX_LIMIT
    ) {
      throw new RangeError(
        `maxMessageLength must be an integer from ${MIN_STARTUP_LENGTH} to ${MAX_LIMIT}, got ${maxMessageLength}`,
      );
    }
    this.maxMessageLength = maxMessageLength;
    this.#mode = options.mode ?? 'startup';
  }

  get mode(): FramerMode {
    return this.#mode;
  }

  set mode(mode: FramerMode) {
    if (mode !== this.#mode && this.pending() > 0) {
      throw new Error('the framer mode cannot change while part of a message is buffered');
    }
    this.#mode = mode;
  }

  /** Bytes of a partial message held until the rest arrives. */
  pending(): number {
    return this.#headerFill + this.#piecesLength;
  }

  /** Returns every message completed by `chunk`, in order. */
  push(chunk: Buffer): Frame[] {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return this.#frame(chunk);
    } catch (error) {
      if (error instanceof FramingError) {
        this.#failure = error;
        this.#clearPartial();
      }
      throw error;
    }
  }

  #frame(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let offset = 0;
    if (this.pending() > 0) {
      offset = this.#continuePartial(chunk, frames);
      if (this.pending() > 0) return frames;
    }
    while (offset < chunk.length) {
      const headerSize = this.#headerSize();
      const available = chunk.length - offset;
      if (available < headerSize) {
        this.#headerFill = chunk.copy(this.#header, 0, offset);
        break;
      }
      const declared = chunk.readUInt32BE(offset + headerSize - LENGTH_SIZE);
      this.#check(declared);
      const total = headerSize - LENGTH_SIZE + declared;
      if (available < total) {
        chunk.copy(this.#header, 0, offset, offset + headerSize);
        this.#headerFill = headerSize;
        this.#declared = declared;
        this.#keep(chunk.subarray(offset + headerSize));
        break;
      }
      frames.push(this.#emit(chunk.subarray(offset, offset + total)));
      offset += total;
    }
    return frames;
  }

  /** Feeds the start of `chunk` to the partial message; returns the bytes consumed. */
  #continuePartial(chunk: Buffer, frames: Frame[]): number {
    const headerSize = this.#headerSize();
    let offset = 0;
    if (this.#headerFill < headerSize) {
      offset = chunk.copy(this.#header, this.#headerFill, 0, headerSize - this.#headerFill);
      this.#headerFill += offset;
      if (this.#headerFill < headerSize) return offset;
      this.#declared = this.#header.readUInt32BE(headerSize - LENGTH_SIZE);
      this.#check(this.#declared);
    }
    const total = headerSize - LENGTH_SIZE + this.#declared;
    const missing = total - headerSize - this.#piecesLength;
    if (chunk.length - offset < missing) {
      this.#keep(chunk.subarray(offset));
      return chunk.length;
    }
    const end = offset + missing;
    const raw = Buffer.concat(
      [this.#header.subarray(0, headerSize), ...this.#pieces, chunk.subarray(offset, end)],
      total,
    );
    this.#clearPartial();
    frames.push(this.#emit(raw));
    return end;
  }

  #headerSize(): number {
    return this.#mode === 'typed' ? 1 + LENGTH_SIZE : LENGTH_SIZE;
  }

  #check(declared: number): void {
    const minimum = this.#mode === 'typed' ? LENGTH_SIZE : MIN_STARTUP_LENGTH;
    if (declared > this.maxMessageLength) {
      throw new FramingError(
        'too-large',
        `message length ${declared} exceeds the limit of ${this.maxMessageLength} bytes`,
        declared,
      );
    }
    if (declared < minimum) {
      throw new FramingError(
        'malformed',
        `invalid ${this.#mode} message length ${declared}: the minimum is ${minimum}`,
        declared,
      );
    }
  }

  /** Holds a copy, so the caller may reuse the chunk's memory. */
  #keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#pieces.push(Buffer.from(bytes));
    this.#piecesLength += bytes.length;
  }

  #clearPartial(): void {
    this.#headerFill = 0;
    this.#declared = 0;
    this.#pieces = [];
    this.#piecesLength = 0;
  }

  #emit(raw: Buffer): Frame {
    if (this.#mode === 'typed') {
      return { type: raw[0] ?? 0, body: raw.subarray(1 + LENGTH_SIZE), raw };
    }
    const body = raw.subarray(LENGTH_SIZE);
    if (!isRequestCode(body.readUInt32BE(0))) this.#mode = 'typed';
    return { type: null, body, raw };
  }
}

function isRequestCode(code: number): boolean {
  return (
    code === StartupRequestCode.SSL_REQUEST ||
    code === StartupRequestCode.GSSENC_REQUEST ||
    code === StartupRequestCode.CANCEL_REQUEST
  );
}
