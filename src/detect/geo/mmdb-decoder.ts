import { mmdbFormatError } from './mmdb-format-error.js';
import type { MmdbMap, MmdbValue } from './mmdb-value.js';

/**
 * Decodes the data section of a MaxMind DB (format 2.0,
 * https://maxmind.github.io/MaxMind-DB/, "Output Data Section"). Every read
 * is checked against the section's end, nesting is capped, and one decode may
 * produce only so many values, so a corrupt or hostile file (a pointer loop,
 * a map that points into itself, sizes past the end) gives an error instead
 * of a hang, a huge allocation or an out-of-range read.
 */

/** The field types of the spec; 8 and up are "extended" (type bits 0 and an extra byte). */
const POINTER = 1;
const STRING = 2;
const DOUBLE = 3;
const BYTES = 4;
const UINT16 = 5;
const UINT32 = 6;
const MAP = 7;
const INT32 = 8;
const UINT64 = 9;
const UINT128 = 10;
const ARRAY = 11;
const CONTAINER = 12;
const END_MARKER = 13;
const BOOLEAN = 14;
const FLOAT = 15;

/** Largest payload of each integer type, in bytes (shorter means leading zero bytes left out). */
const INTEGER_BYTES: Readonly<Record<number, number>> = {
  [UINT16]: 2,
  [UINT32]: 4,
  [INT32]: 4,
  [UINT64]: 8,
  [UINT128]: 16,
};

/** Deeper than any real database (City records nest 3 levels); stops a map that contains itself. */
const MAX_DEPTH = 32;
/** Values one decode may produce: stops pointer graphs that expand exponentially. */
const MAX_VALUES = 100_000;

interface Field {
  readonly type: number;
  readonly size: number;
  /** Where the payload starts. */
  readonly at: number;
}

export class MmdbDecoder {
  private budget = 0;

  /**
   * `base` is where the section starts (pointers count from it), `end` where
   * it ends; `source` names the file in errors.
   */
  constructor(
    private readonly buf: Buffer,
    private readonly base: number,
    private readonly end: number,
    private readonly source: string,
  ) {
    if (base < 0 || end > buf.length || base > end) throw this.fail('the section bounds', base);
  }

  /** The value at `offset` (from the section start). */
  decode(offset: number): MmdbValue {
    this.budget = MAX_VALUES;
    return this.value(this.base + offset, 0).value;
  }

  private value(at: number, depth: number): { value: MmdbValue; next: number } {
    if (depth > MAX_DEPTH) throw this.fail(`values nested deeper than ${MAX_DEPTH}`, at);
    if (--this.budget < 0) throw this.fail(`one record decodes to over ${MAX_VALUES} values`, at);
    const field = this.field(at);
    if (field.type === POINTER) {
      const target = this.base + field.size;
      if (target >= this.end) throw this.fail('a pointer past the end of the section', at);
      // A pointer to a pointer is invalid (spec: "Pointer - 1"); it would also allow loops.
      if (this.byte(target) >> 5 === POINTER) throw this.fail('a pointer to a pointer', at);
      return { value: this.value(target, depth + 1).value, next: field.at };
    }
    const { type, size, at: p } = field;
    switch (type) {
      case STRING:
        return { value: this.buf.toString('utf8', p, this.span(p, size)), next: p + size };
      case BYTES:
        return { value: Buffer.from(this.buf.subarray(p, this.span(p, size))), next: p + size };
      case DOUBLE:
        if (size !== 8) throw this.fail(`a double of ${size} bytes`, at);
        this.span(p, 8);
        return { value: this.buf.readDoubleBE(p), next: p + 8 };
      case FLOAT:
        if (size !== 4) throw this.fail(`a float of ${size} bytes`, at);
        this.span(p, 4);
        return { value: this.buf.readFloatBE(p), next: p + 4 };
      case UINT16:
      case UINT32:
      case INT32:
      case UINT64:
      case UINT128:
        return { value: this.integer(type, p, size, at), next: p + size };
      case BOOLEAN:
        if (size > 1) throw this.fail(`a boolean of value ${size}`, at);
        return { value: size === 1, next: p };
      case MAP:
        return this.map(p, size, depth, at);
      case ARRAY:
        return this.array(p, size, depth, at);
      case CONTAINER:
      case END_MARKER:
        throw this.fail(
          `a ${type === CONTAINER ? 'data cache container' : 'end marker'} where a value belongs`,
          at,
        );
      default:
        throw this.fail(`unknown field type ${type}`, at);
    }
  }

  /** The control byte(s): type, size (or a pointer's target), and where the payload starts. */
  private field(at: number): Field {
    const control = this.byte(at);
    let type = control >> 5;
    let p = at + 1;
    if (type === POINTER) {
      // 001SSVVV: SS+1 more bytes; VVV are the top bits except for 4-byte pointers.
      const extra = ((control >> 3) & 0x3) + 1;
      const bytes = this.uint(p, extra);
      const high = control & 0x7;
      const target =
        extra === 1
          ? high * 0x100 + bytes
          : extra === 2
            ? high * 0x10000 + bytes + 2048
            : extra === 3
              ? high * 0x1000000 + bytes + 526_336
              : bytes;
      return { type, size: target, at: p + extra };
    }
    if (type === 0) {
      const extended = this.byte(p);
      p += 1;
      type = 7 + extended;
      if (type < INT32 || type > FLOAT) throw this.fail(`extended type ${extended}`, at);
    }
    let size = control & 0x1f;
    if (size >= 29) {
      const extra = size - 28;
      size = [0, 29, 285, 65_821][extra] as number;
      size += this.uint(p, extra);
      p += extra;
    }
    return { type, size, at: p };
  }

  private integer(type: number, p: number, size: number, at: number): number | bigint {
    if (size > (INTEGER_BYTES[type] as number)) throw this.fail(`an integer of ${size} bytes`, at);
    this.span(p, size);
    if (type === UINT64 || type === UINT128) {
      let value = 0n;
      for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(this.buf[p + i] as number);
      return value;
    }
    // int32 in 4 bytes is two's complement; shorter ones are positive (the leading bytes were zero).
    if (type === INT32 && size === 4) return this.buf.readInt32BE(p);
    return size === 0 ? 0 : this.buf.readUIntBE(p, size);
  }

  private map(
    p: number,
    size: number,
    depth: number,
    at: number,
  ): { value: MmdbMap; next: number } {
    // Each pair takes at least two bytes: a bigger count is corrupt, not a reason to allocate.
    if (size * 2 > this.end - p) throw this.fail(`a map of ${size} pairs past the end`, at);
    const map: Record<string, MmdbValue> = Object.create(null);
    let next = p;
    for (let i = 0; i < size; i++) {
      const key = this.value(next, depth + 1);
      if (typeof key.value !== 'string') throw this.fail('a map key that is not a string', next);
      const value = this.value(key.next, depth + 1);
      map[key.value] = value.value;
      next = value.next;
    }
    return { value: map, next };
  }

  private array(
    p: number,
    size: number,
    depth: number,
    at: number,
  ): { value: MmdbValue[]; next: number } {
    if (size > this.end - p) throw this.fail(`an array of ${size} values past the end`, at);
    const array: MmdbValue[] = [];
    let next = p;
    for (let i = 0; i < size; i++) {
      const item = this.value(next, depth + 1);
      array.push(item.value);
      next = item.next;
    }
    return { value: array, next };
  }

  private byte(at: number): number {
    if (at < this.base || at >= this.end) throw this.fail('a read past the end of the section', at);
    return this.buf[at] as number;
  }

  /** A big-endian unsigned integer of up to 4 bytes. */
  private uint(at: number, length: number): number {
    this.span(at, length);
    return length === 0 ? 0 : this.buf.readUIntBE(at, length);
  }

  /** Checks that `length` bytes from `at` are inside the section; returns where they end. */
  private span(at: number, length: number): number {
    if (at < this.base || at + length > this.end)
      throw this.fail(`${length} bytes past the end of the section`, at);
    return at + length;
  }

  private fail(reason: string, at: number): Error {
    return mmdbFormatError(this.source, reason, at);
  }
}
