import { parseIp } from '../../gateway/firewall/ip-address.js';
import { MmdbDecoder } from './mmdb-decoder.js';
import { mmdbFormatError } from './mmdb-format-error.js';
import { isMmdbMap, type MmdbMap, type MmdbValue } from './mmdb-value.js';

/** What the metadata section says about the file (spec: "Database Metadata"). */
export interface MmdbMetadata {
  readonly nodeCount: number;
  readonly recordSize: 24 | 28 | 32;
  readonly ipVersion: 4 | 6;
  readonly databaseType: string;
  readonly languages: readonly string[];
  readonly binaryFormatMajorVersion: number;
  readonly binaryFormatMinorVersion: number;
  /** Seconds since the epoch. */
  readonly buildEpoch: number;
  readonly description: Readonly<Record<string, string>>;
}

export interface MmdbResult {
  readonly data: MmdbValue;
  /** Length of the network the address fell in, in bits of the address's own family. */
  readonly prefixLength: number;
}

/** "\xAB\xCD\xEFMaxMind.com": the metadata section follows its last occurrence. */
const METADATA_MARKER = Buffer.concat([
  Buffer.from([0xab, 0xcd, 0xef]),
  Buffer.from('MaxMind.com', 'latin1'),
]);
/** The spec caps the metadata section at 128 KiB: only the file's tail is searched. */
const METADATA_MAX = 128 * 1024;
/** Zero bytes between the search tree and the data section. */
const SEPARATOR = 16;
/** Decoded records kept, by data offset: the same few records answer most lookups. */
const CACHE_SIZE = 4096;

/**
 * Reads a MaxMind DB (format 2.0, https://maxmind.github.io/MaxMind-DB/) held
 * in memory: GeoIP2/GeoLite2 Country, City and ASN files, or any file of the
 * format. The search tree is walked one bit of the address per node (record
 * sizes 24, 28 and 32); IPv4 addresses in an IPv6 tree are looked up under
 * ::/96, where MaxMind keeps the IPv4 space. Bounds are checked on every
 * read: a corrupt file throws a PgwardenError, never reads out of range, and
 * a walk is at most 128 steps.
 */
export class MmdbReader {
  readonly metadata: MmdbMetadata;
  private readonly treeSize: number;
  private readonly nodeBytes: number;
  private readonly data: MmdbDecoder;
  private readonly dataSize: number;
  private readonly cache = new Map<number, MmdbValue>();
  private ipv4Start: { node: number; depth: number } | undefined;

  constructor(
    private readonly buf: Buffer,
    /** Names the file in errors. */
    private readonly source = 'the GeoIP database',
  ) {
    const marker = buf.lastIndexOf(METADATA_MARKER);
    if (marker < 0 || marker < buf.length - METADATA_MAX - METADATA_MARKER.length) {
      throw mmdbFormatError(source, 'no metadata section ("\\xAB\\xCD\\xEFMaxMind.com" not found)');
    }
    const metaStart = marker + METADATA_MARKER.length;
    const meta = new MmdbDecoder(buf, metaStart, buf.length, `${source} (metadata)`).decode(0);
    this.metadata = readMetadata(meta, source);
    this.nodeBytes = (this.metadata.recordSize * 2) / 8;
    this.treeSize = this.metadata.nodeCount * this.nodeBytes;
    const dataStart = this.treeSize + SEPARATOR;
    if (dataStart > marker) {
      throw mmdbFormatError(
        source,
        `the search tree of ${this.metadata.nodeCount} nodes is larger than the file`,
      );
    }
    for (let i = this.treeSize; i < dataStart; i++) {
      if (buf[i] !== 0)
        throw mmdbFormatError(source, 'no data section separator after the search tree', i);
    }
    this.dataSize = marker - dataStart;
    this.data = new MmdbDecoder(buf, dataStart, marker, source);
  }

  /** The record for an address (IPv4 or IPv6 text), or undefined when the database has none. */
  lookup(address: string): MmdbValue | undefined {
    return this.lookupWithPrefix(address)?.data;
  }

  lookupWithPrefix(address: string): MmdbResult | undefined {
    const ip = parseIp(address);
    if (ip === undefined) return undefined;
    if (ip.family === 6 && this.metadata.ipVersion === 4) return undefined;
    let node = 0;
    let depth = 0;
    const bits = ip.family === 4 ? 32 : 128;
    if (ip.family === 4 && this.metadata.ipVersion === 6) ({ node, depth } = this.ipv4Root());
    const { nodeCount } = this.metadata;
    for (let bit = bits - 1; bit >= 0 && node < nodeCount; bit--, depth++) {
      node = this.record(node, Number((ip.value >> BigInt(bit)) & 1n));
    }
    if (node < nodeCount)
      throw mmdbFormatError(this.source, 'the search tree is deeper than an address');
    if (node === nodeCount) return undefined;
    const offset = node - nodeCount - SEPARATOR;
    if (offset < 0 || offset >= this.dataSize) {
      throw mmdbFormatError(this.source, `a search tree record (${node}) outside the data section`);
    }
    const prefixLength =
      ip.family === 4 && this.metadata.ipVersion === 6 ? Math.max(0, depth - 96) : depth;
    return { data: this.decodeAt(offset), prefixLength };
  }

  /** Where IPv4 starts in an IPv6 tree: 96 left turns from the root (::/96), or where they end. */
  private ipv4Root(): { node: number; depth: number } {
    if (this.ipv4Start === undefined) {
      let node = 0;
      let depth = 0;
      for (; depth < 96 && node < this.metadata.nodeCount; depth++) node = this.record(node, 0);
      this.ipv4Start = { node, depth };
    }
    return this.ipv4Start;
  }

  /** The left (0) or right (1) record of a node. */
  private record(node: number, side: number): number {
    const at = node * this.nodeBytes;
    const b = this.buf;
    switch (this.metadata.recordSize) {
      case 24:
        return b.readUIntBE(at + side * 3, 3);
      case 28: {
        // Seven bytes: left's low 24 bits, a byte whose nibbles are left's and right's top 4, right's low 24.
        const middle = b[at + 3] as number;
        const high = side === 0 ? middle >> 4 : middle & 0x0f;
        return high * 0x1000000 + b.readUIntBE(at + side * 4, 3);
      }
      case 32:
        return b.readUInt32BE(at + side * 4);
    }
  }

  private decodeAt(offset: number): MmdbValue {
    const cached = this.cache.get(offset);
    if (cached !== undefined) return cached;
    const value = this.data.decode(offset);
    if (this.cache.size >= CACHE_SIZE) this.cache.clear();
    this.cache.set(offset, value);
    return value;
  }
}

function readMetadata(meta: MmdbValue, source: string): MmdbMetadata {
  if (!isMmdbMap(meta)) throw mmdbFormatError(source, 'the metadata is not a map');
  const count = (key: string, max = Number.MAX_SAFE_INTEGER): number => {
    const value = meta[key];
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max)
      throw mmdbFormatError(source, `metadata ${key} is missing or not a count`);
    return n;
  };
  const recordSize = count('record_size');
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)
    throw mmdbFormatError(source, `record size ${recordSize} (24, 28 or 32 expected)`);
  const ipVersion = count('ip_version');
  if (ipVersion !== 4 && ipVersion !== 6)
    throw mmdbFormatError(source, `ip_version ${ipVersion} (4 or 6 expected)`);
  const major = count('binary_format_major_version');
  if (major !== 2) throw mmdbFormatError(source, `binary format version ${major} (2 expected)`);
  const nodeCount = count('node_count', 0xffffffff);
  if (nodeCount === 0) throw mmdbFormatError(source, 'a search tree without nodes');
  const type = meta.database_type;
  return {
    nodeCount,
    recordSize,
    ipVersion,
    databaseType: typeof type === 'string' ? type : '',
    languages: strings(meta.languages),
    binaryFormatMajorVersion: major,
    binaryFormatMinorVersion: count('binary_format_minor_version'),
    buildEpoch: count('build_epoch'),
    description: isMmdbMap(meta.description) ? stringMap(meta.description) : {},
  };
}

function strings(value: MmdbValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function stringMap(map: MmdbMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) if (typeof value === 'string') out[key] = value;
  return out;
}
