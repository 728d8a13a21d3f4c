import { createHash } from 'node:crypto';
import { type IpAddress, parseCidr, parseIp } from '../../gateway/firewall/ip-address.js';
import type { AuditFilter } from './audit-reader.js';
import type { SealedAuditRecord } from './audit-record.js';

/**
 * The search index of one audit file (see docs/adr/0009-audit-search-index.md):
 * the file's complete lines cut into blocks, each with a summary of what its
 * records hold. A summary may say a block holds a value it does not (a Bloom
 * filter's false positive), never the reverse, so a search reads every block
 * that can hold a match and filters its records with the same predicate as a
 * full scan.
 */

/** How files are cut into blocks, and when a value set becomes a Bloom filter. */
export interface IndexParams {
  /** A block ends after this many lines (default 1024). */
  readonly blockRecords: number;
  /** … or once it holds this many bytes (default 1 MiB). */
  readonly blockBytes: number;
  /** Value sets with more distinct values than this are kept as Bloom filters (default 32). */
  readonly exactValues: number;
}

export const DEFAULT_INDEX_PARAMS: IndexParams = {
  blockRecords: 1024,
  blockBytes: 1 << 20,
  exactValues: 32,
};

/** The distinct values of one field in a block: exact, or a Bloom filter over them. */
export type ValueSet =
  | { readonly values: ReadonlySet<string> }
  | { readonly bloom: Buffer; readonly k: number };

/** What the search knows about one block of lines without reading it. */
export interface IndexBlock {
  /** Byte offset of the block's first line in the audit file. */
  readonly offset: number;
  /** Bytes of whole lines, newlines included. */
  readonly length: number;
  readonly lines: number;
  /** Lines that parsed as records. */
  readonly records: number;
  /** Smallest and largest seq (null without records). */
  readonly seq: readonly [number, number] | null;
  /** Smallest and largest `Date.parse(time)` that is a number (null when none is). */
  readonly time: readonly [number, number] | null;
  /** `user`, exactly. */
  readonly user: ValueSet;
  /** `class`, lowercased. */
  readonly class: ValueSet;
  /** The first word of `outcome`, lowercased (`insert` for `INSERT 0 1`). */
  readonly outcome: ValueSet;
  /** Each of `objects`, lowercased, and the part after its last dot (`accounts` for `public.accounts`). */
  readonly object: ValueSet;
  /** Each parseable `address`, as `family:hex value` (IPv4-mapped IPv6 counts as IPv4). */
  readonly address: ValueSet;
  /** Smallest and largest IPv4 and IPv6 address (null when there is none of that family). */
  readonly ip4: readonly [bigint, bigint] | null;
  readonly ip6: readonly [bigint, bigint] | null;
  /** One SIGNATURE_BYTES signature per line, decoded only when the block is read. */
  readonly signatures: SignatureText;
}

const VALUE_FIELDS = ['user', 'class', 'outcome', 'object', 'address'] as const;
type ValueField = (typeof VALUE_FIELDS)[number];

/** Block Bloom filters: 10 bits per value and 7 probes, about 1% false positives. */
const BLOOM_BITS_PER_VALUE = 10;
const BLOOM_PROBES = 7;

/**
 * Bytes of each line's signature: a 64-bit Bloom filter (3 bits per key) of
 * the line's keys in all fields, so a block that may hold a match is parsed
 * only where a line may be one. With the 6 to 8 keys of a typical statement
 * record, a key that is not there still passes 1-6% of lines.
 */
export const SIGNATURE_BYTES = 8;
const FIELD_SALT: Record<ValueField, number> = {
  user: 0x3c6ef372,
  class: 0xa54ff53a,
  outcome: 0x510e527f,
  object: 0x9b05688c,
  address: 0x1f83d9ab,
};

function hashPair(text: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  return [mix(h1) >>> 0, (mix(h2) | 1) >>> 0];
}

function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The signature bits of a key in a field, as two 32-bit halves. */
function signatureBits(field: ValueField, h1: number): [number, number] {
  const x = mix((h1 ^ FIELD_SALT[field]) >>> 0) >>> 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 3; i++) {
    const bit = (x >>> (i * 6)) & 63;
    if (bit < 32) lo |= 1 << bit;
    else hi |= 1 << (bit - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

/** False only when the block certainly holds no such value. */
export function mayHold(set: ValueSet, value: string): boolean {
  if ('values' in set) return set.values.has(value);
  const bits = set.bloom.length * 8;
  const [h1, h2] = hashPair(value);
  for (let i = 0; i < set.k; i++) {
    const bit = (h1 + i * h2) % bits;
    if (((set.bloom[bit >>> 3] as number) & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

function ipKey(ip: IpAddress): string {
  return `${ip.family}:${ip.value.toString(16)}`;
}

function keyIp(key: string): IpAddress | undefined {
  const m = /^([46]):([0-9a-f]{1,32})$/.exec(key);
  return m === null
    ? undefined
    : { family: m[1] === '4' ? 4 : 6, value: BigInt(`0x${m[2] as string}`) };
}

/** The summary key of an outcome: its first word, lowercased, as `--outcome` compares it. */
function outcomeKey(lowered: string): string {
  const space = lowered.indexOf(' ');
  return space === -1 ? lowered : lowered.slice(0, space);
}

/** A key of a field as the builder keeps it: its hashes, and the last block that saw it. */
interface KeyEntry {
  readonly value: string;
  readonly h1: number;
  readonly h2: number;
  /** The key's signature bits. */
  readonly lo: number;
  readonly hi: number;
  block: number;
}

/** What a raw field value contributes: its keys, and for an address the address. */
interface Derived {
  readonly keys: readonly KeyEntry[];
  readonly ip?: IpAddress;
}

const CACHE_LIMIT = 8192;

/**
 * Keys by raw field value (a log repeats the same users, classes, outcomes,
 * objects and addresses), so a record costs one map lookup per value; the
 * derivations are those of auditFilter.
 */
class KeyCache {
  private readonly raw: Record<ValueField, Map<string, Derived | null>> = {
    user: new Map(),
    class: new Map(),
    outcome: new Map(),
    object: new Map(),
    address: new Map(),
  };
  private readonly keys: Record<ValueField, Map<string, KeyEntry>> = {
    user: new Map(),
    class: new Map(),
    outcome: new Map(),
    object: new Map(),
    address: new Map(),
  };

  of(field: ValueField, value: string): Derived | null {
    const map = this.raw[field];
    let derived = map.get(value);
    if (derived === undefined) {
      if (map.size >= CACHE_LIMIT) map.clear();
      derived = this.derive(field, value);
      map.set(value, derived);
    }
    return derived;
  }

  private derive(field: ValueField, value: string): Derived | null {
    switch (field) {
      case 'user':
        return { keys: [this.key(field, value)] };
      case 'class':
        return { keys: [this.key(field, value.toLowerCase())] };
      case 'outcome':
        return { keys: [this.key(field, outcomeKey(value.toLowerCase()))] };
      case 'object': {
        const name = value.toLowerCase();
        const dot = name.lastIndexOf('.');
        const keys = [this.key(field, name)];
        if (dot !== -1) keys.push(this.key(field, name.slice(dot + 1)));
        return { keys };
      }
      case 'address': {
        const ip = parseIp(value);
        return ip === undefined ? null : { keys: [this.key(field, ipKey(ip))], ip };
      }
    }
  }

  private key(field: ValueField, value: string): KeyEntry {
    const map = this.keys[field];
    let entry = map.get(value);
    if (entry === undefined) {
      if (map.size >= CACHE_LIMIT) map.clear();
      const [h1, h2] = hashPair(value);
      const [lo, hi] = signatureBits(field, h1);
      entry = { value, h1, h2, lo, hi, block: -1 };
      map.set(value, entry);
    }
    return entry;
  }
}

function bloomOfKeys(keys: readonly KeyEntry[]): { bloom: Buffer; k: number } {
  const bytes = Math.max(8, Math.ceil((keys.length * BLOOM_BITS_PER_VALUE) / 8));
  const bloom = Buffer.alloc(bytes);
  const bits = bytes * 8;
  for (const { h1, h2 } of keys) {
    for (let i = 0; i < BLOOM_PROBES; i++) {
      const bit = (h1 + i * h2) % bits;
      bloom[bit >>> 3] = (bloom[bit >>> 3] as number) | (1 << (bit & 7));
    }
  }
  return { bloom, k: BLOOM_PROBES };
}

let blockIds = 0;

/** Collects the summary of one block as its lines go by. */
class BlockBuilder {
  length = 0;
  lines = 0;
  private readonly id = blockIds++;
  private records = 0;
  private seqMin = Number.POSITIVE_INFINITY;
  private seqMax = Number.NEGATIVE_INFINITY;
  private timeMin = Number.POSITIVE_INFINITY;
  private timeMax = Number.NEGATIVE_INFINITY;
  private ip4: [bigint, bigint] | null = null;
  private ip6: [bigint, bigint] | null = null;
  private readonly keys: Record<ValueField, KeyEntry[]> = {
    user: [],
    class: [],
    outcome: [],
    object: [],
    address: [],
  };
  private readonly signatures: Buffer;
  private lo = 0;
  private hi = 0;

  constructor(
    readonly offset: number,
    private readonly params: IndexParams,
    private readonly cache: KeyCache,
  ) {
    this.signatures = Buffer.alloc(params.blockRecords * SIGNATURE_BYTES);
  }

  get full(): boolean {
    return this.lines >= this.params.blockRecords || this.length >= this.params.blockBytes;
  }

  private use(field: ValueField, derived: Derived | null): void {
    if (derived === null) return;
    for (const entry of derived.keys) {
      if (entry.block !== this.id) {
        entry.block = this.id;
        this.keys[field].push(entry);
      }
      this.lo |= entry.lo;
      this.hi |= entry.hi;
    }
    const { ip } = derived;
    if (ip === undefined) return;
    const range = ip.family === 4 ? this.ip4 : this.ip6;
    if (range === null) {
      if (ip.family === 4) this.ip4 = [ip.value, ip.value];
      else this.ip6 = [ip.value, ip.value];
    } else {
      if (ip.value < range[0]) range[0] = ip.value;
      if (ip.value > range[1]) range[1] = ip.value;
    }
  }

  /**
   * Adds one line. Each value is derived exactly as auditFilter compares it,
   * so a record the predicate keeps always leaves its mark here.
   */
  add(bytes: number, record: SealedAuditRecord | undefined): void {
    this.length += bytes;
    const line = this.lines;
    this.lines += 1;
    if (record === undefined) return;
    this.records += 1;
    if (record.seq < this.seqMin) this.seqMin = record.seq;
    if (record.seq > this.seqMax) this.seqMax = record.seq;
    const time = Date.parse(record.time);
    if (time < this.timeMin) this.timeMin = time;
    if (time > this.timeMax) this.timeMax = time;
    this.lo = 0;
    this.hi = 0;
    const cache = this.cache;
    const { user, class: klass, outcome, objects, address } = record;
    if (typeof user === 'string') this.use('user', cache.of('user', user));
    if (typeof klass === 'string') this.use('class', cache.of('class', klass));
    if (typeof outcome === 'string') this.use('outcome', cache.of('outcome', outcome));
    if (Array.isArray(objects)) {
      for (const o of objects as unknown[]) {
        if (typeof o === 'string') this.use('object', cache.of('object', o));
      }
    }
    if (typeof address === 'string') this.use('address', cache.of('address', address));
    if (line < this.params.blockRecords) {
      this.signatures.writeUInt32LE(this.lo >>> 0, line * SIGNATURE_BYTES);
      this.signatures.writeUInt32LE(this.hi >>> 0, line * SIGNATURE_BYTES + 4);
    }
  }

  finish(): IndexBlock {
    const set = (field: ValueField): ValueSet => {
      // A cache that was cleared mid-block can list a key twice.
      const unique = [...new Map(this.keys[field].map((k) => [k.value, k])).values()];
      return unique.length <= this.params.exactValues
        ? { values: new Set(unique.map((k) => k.value)) }
        : bloomOfKeys(unique);
    };
    return {
      offset: this.offset,
      length: this.length,
      lines: this.lines,
      records: this.records,
      seq: this.records > 0 ? [this.seqMin, this.seqMax] : null,
      time: this.timeMin <= this.timeMax ? [this.timeMin, this.timeMax] : null,
      user: set('user'),
      class: set('class'),
      outcome: set('outcome'),
      object: set('object'),
      address: set('address'),
      ip4: this.ip4,
      ip6: this.ip6,
      signatures: signatureText(this.signatures.subarray(0, this.lines * SIGNATURE_BYTES)),
    };
  }
}

/**
 * Cuts lines into blocks from a starting offset: `add` each complete line (its
 * end offset and its record, or undefined for a line that is no record).
 */
export class IndexBuilder {
  private readonly done: IndexBlock[] = [];
  private readonly cache = new KeyCache();
  private current: BlockBuilder;
  private end: number;

  constructor(
    start: number,
    private readonly params: IndexParams = DEFAULT_INDEX_PARAMS,
  ) {
    this.end = start;
    this.current = this.block();
  }

  private block(): BlockBuilder {
    return new BlockBuilder(this.end, this.params, this.cache);
  }

  add(lineEnd: number, record: SealedAuditRecord | undefined): void {
    this.current.add(lineEnd - this.end, record);
    this.end = lineEnd;
    if (this.current.full) {
      this.done.push(this.current.finish());
      this.current = this.block();
    }
  }

  /** The finished blocks; with `partial`, also the last one that is not full yet. */
  finish(partial: boolean): IndexBlock[] {
    if (partial && this.current.lines > 0) {
      this.done.push(this.current.finish());
      this.current = this.block();
    }
    return this.done;
  }
}

/** A block's line signatures as stored: base64, and the SHA-256 that proves it. */
export interface SignatureText {
  readonly base64: string;
  readonly sha256: string;
}

function signatureText(bytes: Buffer): SignatureText {
  const base64 = bytes.toString('base64');
  return { base64, sha256: createHash('sha256').update(base64).digest('hex') };
}

/**
 * The block's line signatures, one SIGNATURE_BYTES entry per line; undefined
 * when the stored text does not match its hash or the block's line count.
 */
export function blockSignatures(block: IndexBlock): Buffer | undefined {
  const { base64, sha256 } = block.signatures;
  if (createHash('sha256').update(base64).digest('hex') !== sha256) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === block.lines * SIGNATURE_BYTES ? bytes : undefined;
}

/** The bits a line's signature must all have for the line to be a possible match. */
export type LineMask = readonly [number, number];

export function lineMayMatch(signatures: Buffer, line: number, mask: LineMask): boolean {
  const lo = signatures.readUInt32LE(line * SIGNATURE_BYTES);
  const hi = signatures.readUInt32LE(line * SIGNATURE_BYTES + 4);
  return (lo & mask[0]) >>> 0 === mask[0] && (hi & mask[1]) >>> 0 === mask[1];
}

/**
 * The line mask of a filter: the bits of every key it names. Undefined when
 * it names none: time bounds and CIDR blocks are tested per block only.
 */
export function lineMask(filter: AuditFilter): LineMask | undefined {
  let lo = 0;
  let hi = 0;
  let any = false;
  const add = (field: ValueField, value: string): void => {
    const [l, h] = signatureBits(field, hashPair(value)[0]);
    lo |= l;
    hi |= h;
    any = true;
  };
  const { user, object, outcome, ip } = filter;
  if (typeof user === 'string') add('user', user);
  if (typeof filter.class === 'string') add('class', filter.class.toLowerCase());
  if (typeof object === 'string') add('object', object.toLowerCase());
  if (typeof outcome === 'string') add('outcome', outcomeKey(outcome.toLowerCase()));
  if (typeof ip === 'string') {
    const single = parseIp(ip);
    if (single !== undefined) add('address', ipKey(single));
  }
  return any ? [lo >>> 0, hi >>> 0] : undefined;
}

/**
 * A test that is false only for blocks that hold no record the filter keeps;
 * undefined when the filter has nothing the summaries can rule out. `since`
 * and `until` must already be numbers (the same ones the predicate uses: an
 * age like `2h` is relative to when it is read).
 */
export function blockFilter(
  filter: AuditFilter & {
    readonly since?: number | undefined;
    readonly until?: number | undefined;
  },
): ((block: IndexBlock) => boolean) | undefined {
  const tests: ((block: IndexBlock) => boolean)[] = [];
  const { user, object, outcome, ip, since, until } = filter;
  const klass = filter.class;
  if (typeof user === 'string') tests.push((b) => mayHold(b.user, user));
  if (typeof klass === 'string') {
    const key = klass.toLowerCase();
    tests.push((b) => mayHold(b.class, key));
  }
  if (since !== undefined) tests.push((b) => b.time !== null && b.time[1] >= since);
  if (until !== undefined) tests.push((b) => b.time !== null && b.time[0] < until);
  if (typeof object === 'string') {
    const key = object.toLowerCase();
    tests.push((b) => mayHold(b.object, key));
  }
  if (typeof outcome === 'string') {
    const key = outcomeKey(outcome.toLowerCase());
    tests.push((b) => mayHold(b.outcome, key));
  }
  if (typeof ip === 'string') {
    const single = parseIp(ip);
    const range = single === undefined ? parseCidr(ip) : { start: single, end: single };
    if (range !== undefined) tests.push((b) => addressMayMatch(b, range, single));
  }
  return tests.length === 0 ? undefined : (b) => tests.every((test) => test(b));
}

function addressMayMatch(
  block: IndexBlock,
  range: { readonly start: IpAddress; readonly end: IpAddress },
  single: IpAddress | undefined,
): boolean {
  const { family } = range.start;
  const span = family === 4 ? block.ip4 : block.ip6;
  if (span === null || span[1] < range.start.value || span[0] > range.end.value) return false;
  if (single !== undefined) return mayHold(block.address, ipKey(single));
  if (!('values' in block.address)) return true;
  for (const key of block.address.values) {
    const ip = keyIp(key);
    if (
      ip !== undefined &&
      ip.family === family &&
      ip.value >= range.start.value &&
      ip.value <= range.end.value
    ) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// The index file. Lines: a JSON header; for each block a JSON summary line
// (holding the SHA-256 of its signature line) and a signature line (base64);
// then a JSON trailer with the SHA-256 of the header and summary lines. The
// signature lines are checked only for the blocks a search reads.

const FORMAT = 'pgwarden-audit-index';
const VERSION = 1;

/** What an index says about the audit file it was built from. */
export interface IndexHeader {
  /** The audit file's name. */
  readonly file: string;
  /** Its inode number, size and mtime (ns, decimal) when the indexing began. */
  readonly ino: string;
  readonly size: number;
  readonly mtimeNs: string;
  /** The blocks cover bytes [0, covered) of the file. */
  readonly covered: number;
  /** SHA-256 (hex) of the first and of the last up to 4 KiB of the covered bytes. */
  readonly head: string;
  readonly tail: string;
  readonly blockRecords: number;
  readonly blockBytes: number;
}

/** How many bytes each anchor hash covers. */
export const ANCHOR_BYTES = 4096;

export function anchorHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function valueSetJson(set: ValueSet): unknown {
  return 'values' in set ? { v: [...set.values] } : { b: set.bloom.toString('base64'), k: set.k };
}

function rangeJson(range: readonly [bigint, bigint] | null): unknown {
  return range === null ? null : [range[0].toString(16), range[1].toString(16)];
}

/** The bytes of an index file. */
export function serializeIndex(header: IndexHeader, blocks: readonly IndexBlock[]): Buffer {
  const digest = createHash('sha256');
  const parts: string[] = [];
  const summary = (line: string): void => {
    digest.update(line);
    parts.push(line);
  };
  summary(
    `${JSON.stringify({ format: FORMAT, version: VERSION, ...header, blocks: blocks.length })}\n`,
  );
  for (const block of blocks) {
    summary(
      `${JSON.stringify({
        offset: block.offset,
        length: block.length,
        lines: block.lines,
        records: block.records,
        seq: block.seq,
        time: block.time,
        user: valueSetJson(block.user),
        class: valueSetJson(block.class),
        outcome: valueSetJson(block.outcome),
        object: valueSetJson(block.object),
        address: valueSetJson(block.address),
        ip4: rangeJson(block.ip4),
        ip6: rangeJson(block.ip6),
        signatures: block.signatures.sha256,
      })}\n`,
    );
    parts.push(`${block.signatures.base64}\n`);
  }
  parts.push(`${JSON.stringify({ sha256: digest.digest('hex') })}\n`);
  return Buffer.from(parts.join(''));
}

class Invalid extends Error {}

function invalid(what: string): never {
  throw new Invalid(what);
}

const isCount = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;
const isHash = (value: unknown): value is string =>
  typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);

function parsePair(value: unknown, what: string): [number, number] | null {
  if (value === null) return null;
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !Number.isFinite(value[0]) ||
    !Number.isFinite(value[1]) ||
    value[0] > value[1]
  ) {
    invalid(what);
  }
  return [value[0], value[1]];
}

function parseRange(value: unknown, what: string): [bigint, bigint] | null {
  if (value === null) return null;
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((v) => typeof v === 'string' && /^[0-9a-f]{1,32}$/.test(v))
  ) {
    invalid(what);
  }
  const range: [bigint, bigint] = [BigInt(`0x${value[0]}`), BigInt(`0x${value[1]}`)];
  if (range[0] > range[1]) invalid(what);
  return range;
}

function parseValueSet(value: unknown, what: string): ValueSet {
  if (typeof value !== 'object' || value === null) invalid(what);
  const v = (value as { v?: unknown }).v;
  if (v !== undefined) {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) invalid(what);
    return { values: new Set(v as string[]) };
  }
  const { b, k } = value as { b?: unknown; k?: unknown };
  if (typeof b !== 'string' || !Number.isSafeInteger(k) || (k as number) < 1 || (k as number) > 32)
    invalid(what);
  const bloom = Buffer.from(b, 'base64');
  if (bloom.length === 0 || bloom.toString('base64') !== b) invalid(what);
  return { bloom, k: k as number };
}

function parseObject(text: string, what: string): Record<string, unknown> {
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(what);
  return value as Record<string, unknown>;
}

/**
 * Parses and checks an index file: its checksum, its header against `params`,
 * and that its blocks tile bytes [0, covered) in order. Throws on anything
 * else; the caller then treats the file as having no index.
 */
export function parseIndex(
  data: Buffer,
  params: IndexParams,
): { header: IndexHeader; blocks: IndexBlock[] } {
  if (data.length === 0 || data[data.length - 1] !== 10) invalid('no final newline');
  const lines = data.toString('utf8').split('\n');
  lines.pop();
  const trailer = parseObject(lines.pop() ?? '', 'trailer');
  const digest = createHash('sha256');
  for (let i = 0; i < lines.length; i += i === 0 ? 1 : 2) digest.update(`${lines[i]}\n`);
  if (trailer.sha256 !== digest.digest('hex')) invalid('checksum');
  const h = parseObject(lines[0] ?? '', 'header');
  if (
    h.format !== FORMAT ||
    h.version !== VERSION ||
    typeof h.file !== 'string' ||
    typeof h.ino !== 'string' ||
    !/^\d{1,24}$/.test(h.ino) ||
    !isCount(h.size) ||
    typeof h.mtimeNs !== 'string' ||
    !/^\d{1,30}$/.test(h.mtimeNs) ||
    !isCount(h.covered) ||
    !isHash(h.head) ||
    !isHash(h.tail) ||
    h.blockRecords !== params.blockRecords ||
    h.blockBytes !== params.blockBytes ||
    lines.length % 2 !== 1 ||
    h.blocks !== (lines.length - 1) / 2
  ) {
    invalid('header');
  }
  const header: IndexHeader = {
    file: h.file,
    ino: h.ino,
    size: h.size,
    mtimeNs: h.mtimeNs,
    covered: h.covered,
    head: h.head,
    tail: h.tail,
    blockRecords: h.blockRecords,
    blockBytes: h.blockBytes,
  };
  const blocks: IndexBlock[] = [];
  let offset = 0;
  for (let i = 1; i < lines.length; i += 2) {
    const what = `block ${(i - 1) / 2}`;
    const b = parseObject(lines[i] as string, what);
    if (
      b.offset !== offset ||
      !isCount(b.length) ||
      b.length === 0 ||
      !isCount(b.lines) ||
      b.lines === 0 ||
      b.lines > params.blockRecords ||
      !isCount(b.records) ||
      b.records > b.lines ||
      !isHash(b.signatures)
    ) {
      invalid(what);
    }
    blocks.push({
      offset,
      length: b.length,
      lines: b.lines,
      records: b.records,
      seq: parsePair(b.seq, what),
      time: parsePair(b.time, what),
      user: parseValueSet(b.user, what),
      class: parseValueSet(b.class, what),
      outcome: parseValueSet(b.outcome, what),
      object: parseValueSet(b.object, what),
      address: parseValueSet(b.address, what),
      ip4: parseRange(b.ip4, what),
      ip6: parseRange(b.ip6, what),
      signatures: { base64: lines[i + 1] as string, sha256: b.signatures },
    });
    offset += b.length;
  }
  if (offset !== header.covered || header.covered > header.size) invalid('coverage');
  return { header, blocks };
}
