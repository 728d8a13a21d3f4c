import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BufferReader } from '../../../src/protocol/buffer-reader.js';
import { BufferWriter } from '../../../src/protocol/buffer-writer.js';
import { MalformedMessageError } from '../../../src/protocol/malformed-message-error.js';

describe('BufferWriter', () => {
  it('backfills the length, counting itself but not the type byte', () => {
    const wire = new BufferWriter().message(0x51, (w) => w.cstring('abc')).toBuffer();
    assert.deepEqual([...wire], [0x51, 0, 0, 0, 8, 0x61, 0x62, 0x63, 0]);
    const untyped = new BufferWriter().message(null, (w) => w.int32(7)).toBuffer();
    assert.deepEqual([...untyped], [0, 0, 0, 8, 0, 0, 0, 7]);
  });

  it('grows past its initial capacity and chains several messages', () => {
    const big = Buffer.alloc(1000, 7);
    const wire = new BufferWriter(1)
      .message(0x64, (w) => w.bytes(big))
      .message(0x63, () => {})
      .toBuffer();
    assert.equal(wire.length, 5 + 1000 + 5);
    assert.equal(wire.readUInt32BE(1), 1004);
    assert.deepEqual(wire.subarray(5, 1005), big);
    assert.deepEqual([...wire.subarray(1005)], [0x63, 0, 0, 0, 4]);
  });

  it('leaves a buffer it returned untouched by later writes', () => {
    const writer = new BufferWriter(4);
    const first = writer.int32(1).toBuffer();
    writer.int32(2).int32(3);
    assert.deepEqual([...first], [0, 0, 0, 1]);
  });

  it('refuses out-of-range integers without writing anything', () => {
    const writer = new BufferWriter();
    assert.throws(() => writer.int16(0x8000), RangeError);
    assert.throws(() => writer.uint8(-1), RangeError);
    assert.equal(writer.toBuffer().length, 0);
  });
});

describe('BufferReader', () => {
  it('reads back what the writer wrote', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -128, max: 127 }),
        fc.integer({ min: -0x8000, max: 0x7fff }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
        fc.uint8Array({ maxLength: 16 }),
        (i8, i16, i32, u32, text, tail) => {
          const wire = new BufferWriter()
            .int8(i8)
            .int16(i16)
            .int32(i32)
            .uint32(u32)
            .cstring(text)
            .bytes(tail)
            .toBuffer();
          const reader = new BufferReader(wire);
          assert.equal(reader.int8(), i8);
          assert.equal(reader.int16(), i16);
          assert.equal(reader.int32(), i32);
          assert.equal(reader.uint32(), u32);
          assert.equal(reader.cstring(), text);
          assert.equal(reader.remaining(), tail.length);
          assert.deepEqual(reader.bytes(tail.length), Buffer.from(tail));
          reader.end();
        },
      ),
    );
  });

  it('throws MalformedMessageError, naming the message, on every read past the end', () => {
    const reads: ((r: BufferReader) => unknown)[] = [
      (r) => r.int8(),
      (r) => r.uint8(),
      (r) => r.int16(),
      (r) => r.uint16(),
      (r) => r.int32(),
      (r) => r.uint32(),
      (r) => r.bytes(1),
      (r) => r.cstring(),
    ];
    for (const read of reads) {
      const reader = new BufferReader(Buffer.alloc(0), 'Thing');
      assert.throws(() => read(reader), {
        name: 'MalformedMessageError',
        message: /^malformed Thing: /,
      });
    }
    assert.throws(
      () => new BufferReader(Buffer.from([1, 2, 3])).int32(),
      /needed an Int32 at offset 0/,
    );
  });

  it('refuses negative byte counts and reports trailing bytes', () => {
    const reader = new BufferReader(Buffer.from([1, 2]));
    assert.throws(() => reader.bytes(-1), MalformedMessageError);
    assert.throws(() => reader.end(), /2 unexpected bytes/);
  });

  it('does not look for a NUL beyond the end of a subarray', () => {
    const whole = Buffer.from('abc\0');
    assert.throws(() => new BufferReader(whole.subarray(0, 3)).cstring(), /no NUL terminator/);
  });
});
