import {
  MalformedMessageError,
  type MalformedMessageErrorOptions,
} from './malformed-message-error.js';

/**
 * A cursor over one message body. Every read is bounds-checked and throws
 * MalformedMessageError naming the message, so parsers never see a RangeError.
 * Buffers returned by `bytes`, `rest` and `cstringBytes` are views into the
 * body, not copies.
 */
export class BufferReader {
  readonly #buffer: Buffer;
  readonly #messageName: string;
  #offset = 0;

  constructor(buffer: Buffer, messageName = 'message') {
    this.#buffer = buffer;
    this.#messageName = messageName;
  }

  /** Bytes not yet read. */
  remaining(): number {
    return this.#buffer.length - this.#offset;
  }

  int8(): number {
    return this.#buffer.readInt8(this.#take(1, 'an Int8'));
  }

  uint8(): number {
    return this.#buffer.readUInt8(this.#take(1, 'a Byte1'));
  }

  int16(): number {
    return this.#buffer.readInt16BE(this.#take(2, 'an Int16'));
  }

  uint16(): number {
    return this.#buffer.readUInt16BE(this.#take(2, 'an Int16'));
  }

  int32(): number {
    return this.#buffer.readInt32BE(this.#take(4, 'an Int32'));
  }

  uint32(): number {
    return this.#buffer.readUInt32BE(this.#take(4, 'an Int32'));
  }

  /** The bytes of a NUL-terminated String, without the NUL. */
  cstringBytes(): Buffer {
    const start = this.#offset;
    const end = this.#buffer.indexOf(0, start);
    if (end === -1) throw this.fail(`the String at offset ${start} has no NUL terminator`);
    this.#offset = end + 1;
    return this.#buffer.subarray(start, end);
  }

  /** A NUL-terminated String, decoded as UTF-8 (invalid sequences become U+FFFD). */
  cstring(): string {
    return this.cstringBytes().toString('utf8');
  }

  bytes(length: number): Buffer {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw this.fail(`invalid byte count ${length} at offset ${this.#offset}`);
    }
    const start = this.#take(length, `${length} bytes`);
    return this.#buffer.subarray(start, start + length);
  }

  /** All bytes not yet read. */
  rest(): Buffer {
    return this.bytes(this.remaining());
  }

  /** Throws if bytes are left over: every parser ends with this. */
  end(): void {
    const left = this.remaining();
    if (left !== 0) throw this.fail(`${left} unexpected bytes after the last field`);
  }

  /** The error to throw for a fault found by the caller, prefixed with the message name. */
  fail(detail: string, options?: MalformedMessageErrorOptions): MalformedMessageError {
    return new MalformedMessageError(`malformed ${this.#messageName}: ${detail}`, options);
  }

  #take(length: number, what: string): number {
    const start = this.#offset;
    if (length > this.#buffer.length - start) {
      throw this.fail(
        `needed ${what} at offset ${start}, but only ${this.remaining()} bytes remain`,
      );
    }
    this.#offset = start + length;
    return start;
  }
}
