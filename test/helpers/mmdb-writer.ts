import { parseCidr } from '../../src/gateway/firewall/ip-address.js';

/**
 * A minimal MaxMind DB writer (format 2.0, https://maxmind.github.io/MaxMind-DB/)
 * for tests: a binary search tree over the given networks, a data section and
 * the metadata section. Small and slow on purpose; it writes what the reader
 * must read, field by field as the spec describes it, so the reader is tested
 * against the format rather than against itself.
 */

/** A value with an explicit MMDB type (plain JS values pick one, see `encodeValue`). */
export class Typed {
  constructor(
    readonly type:
      | 'uint16'
      | 'uint32'
      | 'uint64'
      | 'uint128'
      | 'int32'
      | 'double'
      | 'float'
      | 'bytes',
    readonly value: number | bigint | Buffer,
  ) {}
}

export const mmdb = {
  uint16: (n: number) => new Typed('uint16', n),
  uint32: (n: number) => new Typed('uint32', n),
  uint64: (n: bigint) => new Typed('uint64', n),
  uint128: (n: bigint) => new Typed('uint128', n),
  int32: (n: number) => new Typed('int32', n),
  double: (n: number) => new Typed('double', n),
  float: (n: number) => new Typed('float', n),
  bytes: (b: Buffer) => new Typed('bytes', b),
};

/**
 * string → UTF-8 string; boolean → boolean; integer 0..2^32-1 → uint32, other
 * numbers → double; bigint → uint64; array → array; object → map.
 */
export type WriterValue =
  | string
  | number
  | bigint
  | boolean
  | Typed
  | readonly WriterValue[]
  | { readonly [key: string]: WriterValue };

export interface MmdbNetwork {
  /** A CIDR block: `127.0.0.0/24`, `2001:db8::/32`. */
  readonly network: string;
  readonly data: WriterValue;
}

export interface MmdbWriterOptions {
  readonly ipVersion?: 4 | 6;
  readonly recordSize?: 24 | 28 | 32;
  readonly databaseType?: string;
  readonly languages?: readonly string[];
  readonly description?: Readonly<Record<string, string>>;
  readonly buildEpoch?: bigint;
  /** Write repeated strings (map keys, values) once and point to them (default true). */
  readonly pointers?: boolean;
}

export const METADATA_MARKER = Buffer.concat([
  Buffer.from([0xab, 0xcd, 0xef]),
  Buffer.from('MaxMind.com', 'latin1'),
]);

const TYPE_NUMBER = {
  pointer: 1,
  string: 2,
  double: 3,
  bytes: 4,
  uint16: 5,
  uint32: 6,
  map: 7,
  int32: 8,
  uint64: 9,
  uint128: 10,
  array: 11,
  boolean: 14,
  float: 15,
} as const;

/** A control byte (plus extended-type and size bytes) for `type` and `size`. */
export function encodeControl(type: number, size: number): Buffer {
  let sizeBits: number;
  let sizeBytes: Buffer;
  if (size < 29) {
    sizeBits = size;
    sizeBytes = Buffer.alloc(0);
  } else if (size < 285) {
    sizeBits = 29;
    sizeBytes = Buffer.from([size - 29]);
  } else if (size < 65_821) {
    sizeBits = 30;
    sizeBytes = Buffer.alloc(2);
    sizeBytes.writeUInt16BE(size - 285);
  } else {
    sizeBits = 31;
    sizeBytes = Buffer.alloc(3);
    sizeBytes.writeUIntBE(size - 65_821, 0, 3);
  }
  const head =
    type <= 7 ? Buffer.from([(type << 5) | sizeBits]) : Buffer.from([sizeBits, type - 7]);
  return Buffer.concat([head, sizeBytes]);
}

/** A pointer to `offset` in the data section, in the smallest of its four sizes. */
export function encodePointer(offset: number): Buffer {
  if (offset < 2048) return Buffer.from([0x20 | (offset >> 8), offset & 0xff]);
  if (offset < 526_336) {
    const v = offset - 2048;
    return Buffer.from([0x28 | (v >> 16), (v >> 8) & 0xff, v & 0xff]);
  }
  if (offset < 526_336 + 2 ** 27) {
    const v = offset - 526_336;
    return Buffer.from([0x30 | (v >>> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  }
  const out = Buffer.alloc(5);
  out[0] = 0x38;
  out.writeUInt32BE(offset, 1);
  return out;
}

function unsignedBytes(value: bigint): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.from(bytes);
}

/**
 * Encodes values into one data section, remembering where each string went
 * so later copies can be pointers.
 */
export class DataSectionEncoder {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private readonly strings = new Map<string, number>();
  private readonly records = new Map<string, number>();

  constructor(private readonly pointers = true) {}

  get size(): number {
    return this.length;
  }

  /** Appends a value (deduplicated: the same value twice is stored once); returns its offset. */
  add(value: WriterValue): number {
    const key = JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? v.toString('hex') : v,
    );
    const known = this.records.get(key);
    if (known !== undefined) return known;
    const offset = this.length;
    this.value(value);
    this.records.set(key, offset);
    return offset;
  }

  /** Appends raw bytes (for tests that build a section by hand); returns their offset. */
  raw(bytes: Buffer): number {
    const offset = this.length;
    this.push(bytes);
    return offset;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private push(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private value(value: WriterValue): void {
    if (typeof value === 'string') this.string(value);
    else if (typeof value === 'boolean')
      this.push(encodeControl(TYPE_NUMBER.boolean, value ? 1 : 0));
    else if (typeof value === 'bigint') this.typed(new Typed('uint64', value));
    else if (typeof value === 'number') {
      const integer = Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
      this.typed(new Typed(integer ? 'uint32' : 'double', value));
    } else if (value instanceof Typed) this.typed(value);
    else if (Array.isArray(value)) {
      this.push(encodeControl(TYPE_NUMBER.array, value.length));
      for (const item of value as readonly WriterValue[]) this.value(item);
    } else {
      const entries = Object.entries(value as Record<string, WriterValue>);
      this.push(encodeControl(TYPE_NUMBER.map, entries.length));
      for (const [key, item] of entries) {
        this.string(key);
        this.value(item);
      }
    }
  }

  private string(text: string): void {
    const known = this.strings.get(text);
    if (this.pointers && known !== undefined) {
      this.push(encodePointer(known));
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    this.strings.set(text, this.length);
    this.push(Buffer.concat([encodeControl(TYPE_NUMBER.string, bytes.length), bytes]));
  }

  private typed(typed: Typed): void {
    const { type, value } = typed;
    let payload: Buffer;
    switch (type) {
      case 'double':
        payload = Buffer.alloc(8);
        payload.writeDoubleBE(Number(value));
        break;
      case 'float':
        payload = Buffer.alloc(4);
        payload.writeFloatBE(Number(value));
        break;
      case 'bytes':
        payload = value as Buffer;
        break;
      case 'int32':
        if (Number(value) < 0) {
          payload = Buffer.alloc(4);
          payload.writeInt32BE(Number(value));
        } else payload = unsignedBytes(BigInt(value as number));
        break;
      default:
        payload = unsignedBytes(BigInt(value as number | bigint));
    }
    this.push(Buffer.concat([encodeControl(TYPE_NUMBER[type], payload.length), payload]));
  }
}

type Slot = { kind: 'empty' } | { kind: 'node'; index: number } | { kind: 'data'; offset: number };

/** Writes a database holding `networks` (more specific networks win over the ones they are in). */
export function writeMmdb(
  networks: readonly MmdbNetwork[],
  options: MmdbWriterOptions = {},
): Buffer {
  const ipVersion = options.ipVersion ?? 6;
  const recordSize = options.recordSize ?? 28;
  const data = new DataSectionEncoder(options.pointers ?? true);
  const nodes: [Slot, Slot][] = [[{ kind: 'empty' }, { kind: 'empty' }]];
  const sorted = networks
    .map((n) => ({ ...n, bits: networkBits(n.network, ipVersion) }))
    .sort((a, b) => a.bits.length - b.bits.length);
  for (const { bits, data: value } of sorted) {
    const slot: Slot = { kind: 'data', offset: data.add(value) };
    let node = 0;
    for (let depth = 0; depth < bits.length; depth++) {
      const side = bits[depth] as 0 | 1;
      const pair = nodes[node] as [Slot, Slot];
      if (depth === bits.length - 1) {
        pair[side] = slot;
        break;
      }
      const next = pair[side];
      if (next.kind === 'node') {
        node = next.index;
        continue;
      }
      // Split an empty or a less specific record: both halves keep what it held.
      nodes.push([next, next]);
      pair[side] = { kind: 'node', index: nodes.length - 1 };
      node = nodes.length - 1;
    }
  }
  const nodeCount = nodes.length;
  const value = (slot: Slot): number =>
    slot.kind === 'empty'
      ? nodeCount
      : slot.kind === 'node'
        ? slot.index
        : nodeCount + 16 + slot.offset;
  const tree = Buffer.concat(
    nodes.map(([left, right]) => encodeNode(value(left), value(right), recordSize)),
  );
  const metadata = new DataSectionEncoder(false);
  metadata.add({
    binary_format_major_version: mmdb.uint16(2),
    binary_format_minor_version: mmdb.uint16(0),
    build_epoch: mmdb.uint64(options.buildEpoch ?? 1_700_000_000n),
    database_type: options.databaseType ?? 'pgwarden-Test',
    description: options.description ?? { en: 'pgwarden test database' },
    ip_version: mmdb.uint16(ipVersion),
    languages: options.languages ?? ['en'],
    node_count: mmdb.uint32(nodeCount),
    record_size: mmdb.uint16(recordSize),
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    data.toBuffer(),
    METADATA_MARKER,
    metadata.toBuffer(),
  ]);
}

/** The two records of a node: 24 bits each, 28 (the middle byte holds both top nibbles), or 32. */
export function encodeNode(left: number, right: number, recordSize: 24 | 28 | 32): Buffer {
  if (recordSize === 24) {
    const out = Buffer.alloc(6);
    out.writeUIntBE(left, 0, 3);
    out.writeUIntBE(right, 3, 3);
    return out;
  }
  if (recordSize === 32) {
    const out = Buffer.alloc(8);
    out.writeUInt32BE(left, 0);
    out.writeUInt32BE(right, 4);
    return out;
  }
  const out = Buffer.alloc(7);
  out.writeUIntBE(left & 0xffffff, 0, 3);
  out[3] = (Math.floor(left / 0x1000000) << 4) | Math.floor(right / 0x1000000);
  out.writeUIntBE(right & 0xffffff, 4, 3);
  return out;
}

/** The bits of a network's prefix; an IPv4 network in an IPv6 tree sits under ::/96. */
function networkBits(cidr: string, ipVersion: 4 | 6): (0 | 1)[] {
  const block = parseCidr(cidr);
  if (block === undefined) throw new Error(`not a CIDR block: ${cidr}`);
  const total = block.start.family === 4 ? 32 : 128;
  let prefix = total;
  while (prefix > 0 && (block.end.value - block.start.value) >> BigInt(total - prefix) > 0n)
    prefix--;
  const bits: (0 | 1)[] = [];
  if (block.start.family === 4 && ipVersion === 6) for (let i = 0; i < 96; i++) bits.push(0);
  if (block.start.family === 6 && ipVersion === 4) throw new Error(`${cidr} in an IPv4 database`);
  for (let i = total - 1; i >= total - prefix; i--)
    bits.push(Number((block.start.value >> BigInt(i)) & 1n) as 0 | 1);
  if (bits.length === 0) throw new Error('a network of prefix 0 is not supported here');
  return bits;
}
