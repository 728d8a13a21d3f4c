/**
 * A growable writer. `message()` writes the type byte (if any), reserves the
 * Int32 length, runs the builder and then backfills the length, which by the
 * protocol's rule counts itself but not the type byte (PostgreSQL docs 55.7).
 *
 * `toBuffer()` returns a view of the bytes written so far; later writes only
 * append, so a returned buffer never changes.
 */
export class BufferWriter {
  #buffer: Buffer;
  #offset = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = Buffer.alloc(initialCapacity);
  }

  message(type: number | null, build: (writer: BufferWriter) => void): this {
    if (type !== null) this.uint8(type);
    const lengthAt = this.#ensure(4);
    this.#offset = lengthAt + 4;
    build(this);
    this.#buffer.writeUInt32BE(this.#offset - lengthAt, lengthAt);
    return this;
  }

  int8(value: number): this {
    const at = this.#ensure(1); // first: it may replace the buffer
    this.#offset = this.#buffer.writeInt8(value, at);
    return this;
  }

  uint8(value: number): this {
    const at = this.#ensure(1);
    this.#offset = this.#buffer.writeUInt8(value, at);
    return this;
  }

  int16(value: number): this {
    const at = this.#ensure(2);
    this.#offset = this.#buffer.writeInt16BE(value, at);
    return this;
  }

  uint16(value: number): this {
    const at = this.#ensure(2);
    this.#offset = this.#buffer.writeUInt16BE(value, at);
    return this;
  }

  int32(value: number): this {
    const at = this.#ensure(4);
    this.#offset = this.#buffer.writeInt32BE(value, at);
    return this;
  }

  uint32(value: number): this {
    const at = this.#ensure(4);
    this.#offset = this.#buffer.writeUInt32BE(value, at);
    return this;
  }

  /** A UTF-8 String and its NUL; a NUL inside the value cannot be represented. */
  cstring(value: string): this {
    if (value.includes('\0')) throw new TypeError('a protocol String cannot contain a NUL byte');
    const length = Buffer.byteLength(value, 'utf8');
    const at = this.#ensure(length + 1);
    this.#buffer.write(value, at, length, 'utf8');
    this.#buffer[at + length] = 0;
    this.#offset = at + length + 1;
    return this;
  }

  bytes(value: Uint8Array): this {
    const at = this.#ensure(value.length);
    this.#buffer.set(value, at);
    this.#offset = at + value.length;
    return this;
  }

  toBuffer(): Buffer {
    return this.#buffer.subarray(0, this.#offset);
  }

  /**
   * Makes room for `length` more bytes and returns where they start; the
   * caller advances the offset only once the write has succeeded.
   */
  #ensure(length: number): number {
    const at = this.#offset;
    const needed = at + length;
    if (needed > this.#buffer.length) {
      const grown = Buffer.alloc(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, at);
      this.#buffer = grown;
    }
    return at;
  }
}
