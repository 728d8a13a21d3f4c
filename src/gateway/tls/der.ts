/**
 * A minimal ASN.1 DER encoder (ITU-T X.690) and a tiny TLV reader, enough for
 * X.509 certificates (RFC 5280). Every encoder returns one complete element
 * (tag, length, contents) as a Buffer; constructed encoders take encoded
 * elements. Only low tag numbers (0-30) are supported, which X.509 needs.
 */

/** X.690 8.1.2: universal tag numbers used here. */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

const CONSTRUCTED = 0x20;
const CONTEXT = 0x80;

/** X.690 8.1.3 / 10.1: definite length, short form below 128, else the fewest octets. */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new Error(`invalid DER length ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** One element from a single-octet tag and its contents. */
export function tlv(tag: number, contents: Buffer): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new Error(`unsupported DER tag 0x${tag.toString(16)}`);
  }
  return Buffer.concat([Buffer.from([tag]), encodeLength(contents.length), contents]);
}

export function sequence(...elements: readonly Buffer[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(elements));
}

/** X.690 11.6: the elements of a DER SET OF are sorted by their encodings. */
export function set(...elements: readonly Buffer[]): Buffer {
  return tlv(TAG.set, Buffer.concat([...elements].sort(Buffer.compare)));
}

/**
 * X.690 8.3: two's complement in the fewest octets. A bigint or number is
 * encoded by value (negative values allowed); a Buffer is read as an unsigned
 * big-endian magnitude, so leading zero octets are dropped and one 0x00 is put
 * back when the high bit is set (8.3.2: the first nine bits are never all 0 or all 1).
 */
export function integer(value: bigint | number | Buffer): Buffer {
  if (Buffer.isBuffer(value)) {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    const magnitude = value.length === 0 ? Buffer.from([0]) : value.subarray(start);
    const needsPad = ((magnitude[0] ?? 0) & 0x80) !== 0;
    return tlv(TAG.integer, needsPad ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new Error(`DER integer must be a safe integer, got ${value}`);
  }
  let rest = BigInt(value);
  const octets: number[] = [];
  for (;;) {
    const octet = Number(rest & 0xffn);
    octets.unshift(octet);
    rest >>= 8n; // arithmetic shift: ends at 0 or -1
    if ((rest === 0n && (octet & 0x80) === 0) || (rest === -1n && (octet & 0x80) !== 0)) break;
  }
  return tlv(TAG.integer, Buffer.from(octets));
}

/** X.690 8.19: first two arcs as 40 * X + Y, every subidentifier base 128, high bit = more. */
export function oid(dotted: string): Buffer {
  if (!/^\d+(\.\d+)+$/.test(dotted)) throw new Error(`invalid object identifier "${dotted}"`);
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first = 0n, second = 0n, ...rest] = arcs;
  if (first > 2n || (first < 2n && second > 39n)) {
    throw new Error(`invalid object identifier "${dotted}"`);
  }
  const octets: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let more = arc >> 7n; more > 0n; more >>= 7n) group.unshift(Number(more & 0x7fn) | 0x80);
    octets.push(...group);
  }
  return tlv(TAG.oid, Buffer.from(octets));
}

/** X.690 8.8: NULL has no contents. */
export function nullValue(): Buffer {
  return tlv(TAG.null, Buffer.alloc(0));
}

/** X.690 11.1: DER TRUE is 0xFF. */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
}

export function octetString(contents: Buffer): Buffer {
  return tlv(TAG.octetString, contents);
}

/** X.690 8.6: the first contents octet counts the unused bits in the last octet (0-7). */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7) {
    throw new Error(`invalid number of unused bits ${unusedBits}`);
  }
  if (bytes.length === 0 && unusedBits !== 0)
    throw new Error('an empty bit string has no unused bits');
  const last = bytes[bytes.length - 1] ?? 0;
  if ((last & ((1 << unusedBits) - 1)) !== 0) throw new Error('DER unused bits must be zero');
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * A NamedBitList value (e.g. KeyUsage), bit 0 being the most significant bit of
 * the first octet. X.690 11.2.2: trailing zero bits are removed in DER.
 */
export function namedBitString(bits: readonly number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0) throw new Error(`invalid bit number ${bit}`);
  }
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return bitString(bytes, 7 - (highest & 7));
}

export function utf8String(value: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(value, 'utf8'));
}

/** X.680 41.4: A-Z a-z 0-9 space ' ( ) + , - . / : = ? */
export function printableString(value: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) {
    throw new Error(`"${value}" has characters a PrintableString cannot hold`);
  }
  return tlv(TAG.printableString, Buffer.from(value, 'latin1'));
}

export function ia5String(value: string): Buffer {
  if (![...value].every((char) => char.charCodeAt(0) < 0x80))
    throw new Error(`"${value}" is not IA5 (ASCII) text`);
  return tlv(TAG.ia5String, Buffer.from(value, 'latin1'));
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

function timeDigits(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error('invalid date');
  // RFC 5280 4.1.2.5.1/4.1.2.5.2: seconds always present, no fractional seconds, Zulu.
  return `${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}Z`;
}

/** YYMMDDHHMMSSZ; RFC 5280 4.1.2.5.1 interprets YY >= 50 as 19YY, so only 1950-2049. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 1950 && year <= 2049)) throw new Error(`UTCTime cannot hold the year ${year}`);
  return tlv(TAG.utcTime, Buffer.from(`${pad(year % 100, 2)}${timeDigits(date)}`, 'latin1'));
}

/** YYYYMMDDHHMMSSZ (RFC 5280 4.1.2.5.2). */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new Error(`GeneralizedTime cannot hold the year ${year}`);
  return tlv(TAG.generalizedTime, Buffer.from(`${pad(year, 4)}${timeDigits(date)}`, 'latin1'));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}

function checkTagNumber(tagNumber: number): void {
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > 30) {
    throw new Error(`unsupported context tag [${tagNumber}]`);
  }
}

/** [n] EXPLICIT: a constructed context-specific element wrapping the whole encoding (X.690 8.14). */
export function explicit(tagNumber: number, element: Buffer): Buffer {
  checkTagNumber(tagNumber);
  return tlv(CONTEXT | CONSTRUCTED | tagNumber, element);
}

/** [n] IMPLICIT: the element's own tag replaced, its constructed bit kept (X.690 8.14). */
export function implicit(tagNumber: number, element: Buffer): Buffer {
  checkTagNumber(tagNumber);
  const { tag, contents } = readTlv(element);
  return tlv(CONTEXT | (tag & CONSTRUCTED) | tagNumber, contents);
}

// --- Reading ---------------------------------------------------------------

export interface DerElement {
  /** The single identifier octet. */
  readonly tag: number;
  /** The contents octets (a view into the input). */
  readonly contents: Buffer;
  /** The whole element, tag and length included (a view into the input). */
  readonly encoded: Buffer;
  /** Offset just past the element. */
  readonly end: number;
}

/** Reads one DER element at `offset`. Rejects high tag numbers and indefinite or non-minimal lengths. */
export function readTlv(input: Buffer, offset = 0): DerElement {
  const tag = input[offset];
  const first = input[offset + 1];
  if (tag === undefined || first === undefined) throw new Error('truncated DER element');
  if ((tag & 0x1f) === 0x1f) throw new Error('DER high tag numbers are not supported');
  let length = first;
  let headerLength = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const octet = input[offset + 2 + i];
      if (octet === undefined) throw new Error('truncated DER length');
      if (i === 0 && octet === 0) throw new Error('non-minimal DER length');
      length = length * 256 + octet;
    }
    if (length < 0x80) throw new Error('non-minimal DER length');
    headerLength += count;
  }
  const start = offset + headerLength;
  const end = start + length;
  if (end > input.length) throw new Error('truncated DER element');
  return {
    tag,
    contents: input.subarray(start, end),
    encoded: input.subarray(offset, end),
    end,
  };
}

/** The elements inside a constructed element's contents. */
export function readChildren(contents: Buffer): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = 0; offset < contents.length; ) {
    const child = readTlv(contents, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** The dotted form of OBJECT IDENTIFIER contents (X.690 8.19). */
export function decodeOid(contents: Buffer): string {
  const arcs: bigint[] = [];
  let value = 0n;
  let inArc = false;
  for (const octet of contents) {
    if (!inArc && octet === 0x80) throw new Error('non-minimal OID subidentifier');
    value = (value << 7n) | BigInt(octet & 0x7f);
    inArc = (octet & 0x80) !== 0;
    if (!inArc) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [head, ...rest] = arcs;
  if (head === undefined || inArc) throw new Error('truncated OID');
  const first = head < 80n ? head / 40n : 2n;
  return [first, head - first * 40n, ...rest].join('.');
}

/** A Date from UTCTime or GeneralizedTime contents in the RFC 5280 4.1.2.5 profile (YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ). */
export function decodeTime(element: DerElement): Date {
  const text = element.contents.toString('latin1');
  const utc = element.tag === TAG.utcTime ? /^(\d\d)(\d{10})Z$/.exec(text) : null;
  const generalized = element.tag === TAG.generalizedTime ? /^(\d{4})(\d{10})Z$/.exec(text) : null;
  const match = utc ?? generalized;
  if (!match) throw new Error(`unsupported certificate time "${text}"`);
  let year = Number(match[1]);
  if (utc) year += year >= 50 ? 1900 : 2000;
  const rest = match[2] ?? '';
  const field = (index: number): number => Number(rest.slice(index, index + 2));
  const date = new Date(Date.UTC(year, field(0) - 1, field(2), field(4), field(6), field(8)));
  date.setUTCFullYear(year); // Date.UTC maps the years 0-99 to 1900-1999
  return date;
}

export const DER_TAG = TAG;
