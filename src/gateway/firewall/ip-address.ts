import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as a number in its family's space; IPv4-mapped IPv6 is IPv4. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/**
 * Parses an IPv4 or IPv6 address. `::ffff:a.b.c.d` (IPv4-mapped, RFC 4291
 * section 2.5.5.2) is normalised to IPv4, so a dual-stack listener's view of
 * an IPv4 client matches IPv4 rules. Zone ids (`fe80::1%eth0`) are dropped.
 */
export function parseIp(text: string): IpAddress | undefined {
  const address = text.trim().replace(/%.*$/, '');
  if (isIPv4(address)) return { family: 4, value: ipv4ToBigint(address) };
  if (!isIPv6(address)) return undefined;
  const value = ipv6ToBigint(address);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n)
    groups.push(((ip.value >> shift) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952 section 4.2).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

/** The first and last address of a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function parseCidr(text: string): { start: IpAddress; end: IpAddress } | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (match === null) return undefined;
  const base = parseIp(match[1] as string);
  if (base === undefined) return undefined;
  const bits = base.family === 4 ? 32 : 128;
  // A mapped IPv6 prefix (::ffff:0:0/96 and longer) counts in IPv4 bits.
  const mappedOffset = base.family === 4 && isIPv6(match[1] as string) ? 96 : 0;
  const prefix = Number(match[2]) - mappedOffset;
  if (prefix < 0 || prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const mask = (1n << hostBits) - 1n;
  return {
    start: { family: base.family, value: base.value & ~mask },
    end: { family: base.family, value: base.value | mask },
  };
}

function ipv4ToBigint(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigint(address: string): bigint {
  let text = address;
  // A trailing dotted IPv4 part becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const v4 = ipv4ToBigint(dotted[1] as string);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [
    ...headGroups,
    ...Array<string>(tail === undefined ? 0 : missing).fill('0'),
    ...tailGroups,
  ];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}
