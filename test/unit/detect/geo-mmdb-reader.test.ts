import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MmdbDecoder } from '../../../src/detect/geo/mmdb-decoder.js';
import { MmdbReader } from '../../../src/detect/geo/mmdb-reader.js';
import { mmdbPath } from '../../../src/detect/geo/mmdb-value.js';
import { isPgwardenError } from '../../../src/errors.js';
import {
  DataSectionEncoder,
  encodeControl,
  encodeNode,
  encodePointer,
  METADATA_MARKER,
  type MmdbNetwork,
  mmdb,
  writeMmdb,
} from '../../helpers/mmdb-writer.js';

/** The networks of the integration test, and a few more shapes. */
const NETWORKS: MmdbNetwork[] = [
  { network: '127.0.0.0/24', data: { country: { iso_code: 'DE', names: { en: 'Germany' } } } },
  { network: '127.0.1.0/24', data: { country: { iso_code: 'FR', names: { en: 'France' } } } },
  { network: '198.51.100.0/22', data: { country: { iso_code: 'US' } } },
  { network: '198.51.101.0/24', data: { country: { iso_code: 'CA' } } },
  { network: '2001:db8::/32', data: { country: { iso_code: 'NL' } } },
];

const country = (reader: MmdbReader, address: string): unknown =>
  mmdbPath(reader.lookup(address), 'country', 'iso_code');

/** Asserts `fn` throws the reader's PgwardenError (PGW_CONFIG_INVALID) with a message matching `pattern`. */
function assertCorrupt(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isPgwardenError(error), `a PgwardenError, not ${String(error)}`);
    assert.equal(error.code, 'PGW_CONFIG_INVALID');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('MmdbReader lookups', () => {
  for (const recordSize of [24, 28, 32] as const) {
    it(`finds networks in an IPv6 tree with ${recordSize}-bit records, IPv4 under ::/96`, () => {
      const reader = new MmdbReader(writeMmdb(NETWORKS, { recordSize }));
      assert.equal(reader.metadata.recordSize, recordSize);
      assert.equal(country(reader, '127.0.0.1'), 'DE');
      assert.equal(country(reader, '127.0.0.255'), 'DE');
      assert.equal(country(reader, '127.0.1.5'), 'FR');
      // IPv4-mapped IPv6 is the IPv4 address.
      assert.equal(country(reader, '::ffff:127.0.1.9'), 'FR');
      // The more specific network wins inside the larger one, the rest keeps the larger one's.
      assert.equal(country(reader, '198.51.101.7'), 'CA');
      assert.equal(country(reader, '198.51.100.7'), 'US');
      assert.equal(country(reader, '198.51.103.255'), 'US');
      assert.equal(country(reader, '2001:db8:1234::1'), 'NL');
      // Misses: outside every network, and not an address at all.
      assert.equal(reader.lookup('127.0.2.1'), undefined);
      assert.equal(reader.lookup('10.1.2.3'), undefined);
      assert.equal(reader.lookup('2001:db9::1'), undefined);
      assert.equal(reader.lookup('not an address'), undefined);
      assert.equal(reader.lookupWithPrefix('127.0.1.5')?.prefixLength, 24);
      // The /22 was split around the /24 inside it: the tree answers with the piece's prefix.
      assert.equal(reader.lookupWithPrefix('198.51.100.1')?.prefixLength, 24);
      assert.equal(reader.lookupWithPrefix('198.51.103.1')?.prefixLength, 23);
      assert.equal(reader.lookupWithPrefix('2001:db8::1')?.prefixLength, 32);
    });
  }

  it('reads an IPv4-only tree, where IPv6 addresses find nothing', () => {
    const v4 = NETWORKS.filter((n) => !n.network.includes(':'));
    const reader = new MmdbReader(writeMmdb(v4, { ipVersion: 4, recordSize: 24 }));
    assert.equal(reader.metadata.ipVersion, 4);
    assert.equal(country(reader, '127.0.0.7'), 'DE');
    assert.equal(country(reader, '198.51.101.1'), 'CA');
    assert.equal(reader.lookupWithPrefix('127.0.1.1')?.prefixLength, 24);
    assert.equal(reader.lookup('2001:db8::1'), undefined);
    assert.equal(reader.lookup('127.0.3.1'), undefined);
  });

  it('reads the metadata section', () => {
    const reader = new MmdbReader(
      writeMmdb(NETWORKS, {
        databaseType: 'GeoLite2-Country',
        languages: ['en', 'de'],
        description: { en: 'test', de: 'Test' },
        buildEpoch: 1_712_345_678n,
      }),
    );
    assert.deepEqual(
      { ...reader.metadata, description: { ...reader.metadata.description } },
      {
        nodeCount: reader.metadata.nodeCount,
        recordSize: 28,
        ipVersion: 6,
        databaseType: 'GeoLite2-Country',
        languages: ['en', 'de'],
        binaryFormatMajorVersion: 2,
        binaryFormatMinorVersion: 0,
        buildEpoch: 1_712_345_678,
        description: { en: 'test', de: 'Test' },
      },
    );
    // 96 nodes down to ::/96 and more below: a real tree, not a single node.
    assert.ok(reader.metadata.nodeCount > 96, String(reader.metadata.nodeCount));
  });

  it('decodes every data type of the spec, with and without pointers', () => {
    const long = 'x'.repeat(70_000);
    const record = {
      utf8: 'Zürich – 東京',
      empty: '',
      medium: 'm'.repeat(100),
      large: 'l'.repeat(1000),
      long,
      double: mmdb.double(-1.5e300),
      float: mmdb.float(0.5),
      bytes: mmdb.bytes(Buffer.from([0, 1, 254, 255])),
      u16: mmdb.uint16(65_535),
      u32: mmdb.uint32(4_294_967_295),
      u32zero: mmdb.uint32(0),
      u64: mmdb.uint64(18_446_744_073_709_551_615n),
      u128: mmdb.uint128(2n ** 128n - 1n),
      negative: mmdb.int32(-2_147_483_648),
      positive: mmdb.int32(300),
      yes: true,
      no: false,
      list: ['a', 1, ['nested', { deep: true }]],
      names: { en: 'Germany', de: 'Deutschland' },
    };
    // A key spelled __proto__ in a file is data, never a prototype.
    Object.defineProperty(record, '__proto__', { value: 'just a key', enumerable: true });
    for (const pointers of [true, false]) {
      const reader = new MmdbReader(
        writeMmdb([{ network: '127.0.0.0/24', data: record }], { pointers }),
      );
      const found = reader.lookup('127.0.0.1') as Record<string, unknown>;
      assert.equal(found.utf8, 'Zürich – 東京');
      assert.equal(found.empty, '');
      assert.equal(found.medium, 'm'.repeat(100));
      assert.equal(found.large, 'l'.repeat(1000));
      assert.equal(found.long, long);
      assert.equal(found.double, -1.5e300);
      assert.equal(found.float, 0.5);
      assert.deepEqual(found.bytes, Buffer.from([0, 1, 254, 255]));
      assert.equal(found.u16, 65_535);
      assert.equal(found.u32, 4_294_967_295);
      assert.equal(found.u32zero, 0);
      assert.equal(found.u64, 18_446_744_073_709_551_615n);
      assert.equal(found.u128, 2n ** 128n - 1n);
      assert.equal(found.negative, -2_147_483_648);
      assert.equal(found.positive, 300);
      assert.equal(found.yes, true);
      assert.equal(found.no, false);
      assert.deepEqual(JSON.parse(JSON.stringify(found.list)), [
        'a',
        1,
        ['nested', { deep: true }],
      ]);
      assert.ok(Object.hasOwn(found, '__proto__'), 'a key named __proto__ is an own key');
      assert.equal(Object.getPrototypeOf(found), null);
      assert.equal(mmdbPath(found as never, 'names', 'de'), 'Deutschland');
    }
  });

  it('follows pointers of each of the four sizes', () => {
    const data = new DataSectionEncoder(false);
    const near = data.add('near');
    data.raw(Buffer.concat([encodeControl(4, 70_000), Buffer.alloc(70_000)]));
    const middle = data.add('middle');
    data.raw(Buffer.concat([encodeControl(4, 470_000), Buffer.alloc(470_000)]));
    const far = data.add('far');
    assert.ok(near < 2048 && middle >= 2048 && middle < 526_336 && far >= 526_336);
    const pointers = {
      small: data.raw(encodePointer(near)),
      medium: data.raw(encodePointer(middle)),
      large: data.raw(encodePointer(far)),
      // Four-byte pointers carry the offset as is (no bias); any offset may use them.
      full: data.raw(Buffer.from([0x38, 0, 0, 0, near])),
    };
    assert.equal(encodePointer(near).length, 2);
    assert.equal(encodePointer(middle).length, 3);
    assert.equal(encodePointer(far).length, 4);
    const buf = data.toBuffer();
    const decoder = new MmdbDecoder(buf, 0, buf.length, 'test');
    assert.equal(decoder.decode(pointers.small), 'near');
    assert.equal(decoder.decode(pointers.medium), 'middle');
    assert.equal(decoder.decode(pointers.large), 'far');
    assert.equal(decoder.decode(pointers.full), 'near');
  });
});

describe('MmdbReader on corrupt files', () => {
  const good = writeMmdb(NETWORKS, { recordSize: 24 });

  it('refuses a file without metadata, and random bytes', () => {
    assertCorrupt(() => new MmdbReader(Buffer.alloc(0)), /no metadata section/);
    assertCorrupt(
      () => new MmdbReader(Buffer.from('this is not a database at all'), 'x.mmdb'),
      /^x\.mmdb is not a valid MaxMind DB: no metadata section/,
    );
    // Cut off where the metadata starts.
    assertCorrupt(
      () => new MmdbReader(good.subarray(0, good.lastIndexOf(METADATA_MARKER))),
      /no metadata/,
    );
  });

  it('refuses metadata it cannot trust: record size, version, a tree larger than the file', () => {
    const withMeta = (meta: Record<string, unknown>, body = Buffer.alloc(6 + 16)): Buffer => {
      const encoder = new DataSectionEncoder(false);
      encoder.add(meta as never);
      return Buffer.concat([body, METADATA_MARKER, encoder.toBuffer()]);
    };
    const base = {
      binary_format_major_version: mmdb.uint16(2),
      binary_format_minor_version: mmdb.uint16(0),
      build_epoch: mmdb.uint64(1n),
      ip_version: mmdb.uint16(6),
      node_count: mmdb.uint32(1),
      record_size: mmdb.uint16(24),
    };
    assert.ok(new MmdbReader(withMeta(base)));
    assertCorrupt(
      () => new MmdbReader(withMeta({ ...base, record_size: mmdb.uint16(26) })),
      /record size 26/,
    );
    assertCorrupt(
      () => new MmdbReader(withMeta({ ...base, ip_version: mmdb.uint16(5) })),
      /ip_version 5/,
    );
    assertCorrupt(
      () => new MmdbReader(withMeta({ ...base, binary_format_major_version: mmdb.uint16(3) })),
      /binary format version 3/,
    );
    assertCorrupt(
      () => new MmdbReader(withMeta({ ...base, node_count: mmdb.uint32(1_000_000) })),
      /search tree of 1000000 nodes is larger than the file/,
    );
    assertCorrupt(
      () => new MmdbReader(withMeta({ ...base, node_count: mmdb.uint32(0) })),
      /without nodes/,
    );
    const { node_count: _, ...noCount } = base;
    assertCorrupt(() => new MmdbReader(withMeta(noCount)), /node_count is missing/);
    assertCorrupt(
      () => new MmdbReader(withMeta({ ...base }, Buffer.alloc(6 + 16, 1))),
      /separator/,
    );
  });

  it('refuses a tree record that points outside the data section, and a tree that loops', () => {
    const file = (left: number, right: number): Buffer => {
      const meta = new DataSectionEncoder(false);
      meta.add({
        binary_format_major_version: mmdb.uint16(2),
        binary_format_minor_version: mmdb.uint16(0),
        build_epoch: mmdb.uint64(1n),
        ip_version: mmdb.uint16(4),
        node_count: mmdb.uint32(1),
        record_size: mmdb.uint16(24),
      });
      const data = new DataSectionEncoder(false);
      data.add('only');
      return Buffer.concat([
        encodeNode(left, right, 24),
        Buffer.alloc(16),
        data.toBuffer(),
        METADATA_MARKER,
        meta.toBuffer(),
      ]);
    };
    // node_count 1: record 1 is "no data", 17 is offset 0 of the data section.
    assert.equal(new MmdbReader(file(17, 1)).lookup('1.2.3.4'), 'only');
    assert.equal(new MmdbReader(file(17, 1)).lookup('200.2.3.4'), undefined);
    assertCorrupt(
      () => new MmdbReader(file(5000, 1)).lookup('1.2.3.4'),
      /outside the data section/,
    );
    assertCorrupt(() => new MmdbReader(file(5, 1)).lookup('1.2.3.4'), /outside the data section/);
    // Both records point back at the root: the walk stops after 32 bits.
    assertCorrupt(() => new MmdbReader(file(0, 0)).lookup('1.2.3.4'), /deeper than an address/);
  });

  it('refuses data that loops, nests without end, expands exponentially or runs past the end', () => {
    const decode = (bytes: Buffer, offset = 0): unknown =>
      new MmdbDecoder(bytes, 0, bytes.length, 'test').decode(offset);
    // A pointer to a pointer.
    assertCorrupt(
      () => decode(Buffer.concat([encodePointer(2), encodePointer(0)])),
      /pointer to a pointer/,
    );
    // A map whose value points back at the map itself.
    const selfMap = Buffer.concat([
      encodeControl(7, 1),
      encodeControl(2, 1),
      Buffer.from('k'),
      encodePointer(0),
    ]);
    assertCorrupt(() => decode(selfMap), /nested deeper than 32/);
    // An array of two pointers to the previous array, 15 levels: 2^17 values if expanded.
    const parts: Buffer[] = [encodeControl(2, 1), Buffer.from('x')];
    let previous = 0;
    let length = 2;
    for (let i = 0; i < 15; i++) {
      const array = Buffer.concat([
        encodeControl(11, 2),
        encodePointer(previous),
        encodePointer(previous),
      ]);
      parts.push(array);
      previous = length;
      length += array.length;
    }
    assertCorrupt(() => decode(Buffer.concat(parts), previous), /over 100000 values/);
    // Sizes past the end of the section.
    assertCorrupt(
      () => decode(Buffer.concat([encodeControl(2, 20), Buffer.from('short')])),
      /past the end/,
    );
    assertCorrupt(() => decode(encodeControl(7, 1000)), /map of 1000 pairs past the end/);
    assertCorrupt(() => decode(encodeControl(11, 1000)), /array of 1000 values past the end/);
    assertCorrupt(() => decode(encodePointer(100)), /pointer past the end/);
    assertCorrupt(() => decode(Buffer.from([0x5e])), /2 bytes past the end/); // a size needing 2 more bytes
    // Types and sizes the spec does not allow.
    assertCorrupt(() => decode(Buffer.from([0x00, 0x20])), /extended type 32/);
    assertCorrupt(() => decode(Buffer.from([0x00, 0x05])), /data cache container/);
    assertCorrupt(() => decode(Buffer.from([0x00, 0x06])), /end marker/);
    assertCorrupt(
      () => decode(Buffer.concat([encodeControl(3, 4), Buffer.alloc(4)])),
      /double of 4 bytes/,
    );
    assertCorrupt(
      () => decode(Buffer.concat([encodeControl(5, 3), Buffer.alloc(3)])),
      /integer of 3 bytes/,
    );
    assertCorrupt(() => decode(Buffer.from([0x02, 0x07])), /boolean of value 2/);
    assertCorrupt(
      () => decode(Buffer.concat([encodeControl(7, 1), encodeControl(6, 0), encodeControl(6, 0)])),
      /map key that is not a string/,
    );
  });

  it('never reads out of range: every truncation and byte flip either works or throws PgwardenError', () => {
    const file = writeMmdb(NETWORKS, { recordSize: 28 });
    const addresses = ['127.0.0.1', '127.0.1.1', '198.51.101.1', '2001:db8::1', '10.0.0.1'];
    const tryAll = (bytes: Buffer): void => {
      try {
        const reader = new MmdbReader(bytes);
        for (const address of addresses) reader.lookup(address);
      } catch (error) {
        assert.ok(isPgwardenError(error), `PgwardenError expected, got ${String(error)}`);
      }
    };
    for (let cut = 0; cut < file.length; cut += 7) tryAll(file.subarray(0, cut));
    // A fixed pseudo-random sequence (a linear congruential generator), so a failure replays.
    let seed = 12_345;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const copy = Buffer.from(file);
      copy[next() % copy.length] = next() % 256;
      tryAll(copy);
    }
  });
});
