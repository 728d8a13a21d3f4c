import { isIP } from 'node:net';

/**
 * The octets of an IP address as X.509 iPAddress holds them (RFC 5280 4.2.1.6:
 * four octets for IPv4, sixteen for IPv6), or undefined when `text` is not an
 * IP address. IPv6 zone identifiers ("fe80::1%eth0") are refused: a certificate
 * cannot name one.
 */
export function ipAddressBytes(text: string): Buffer | undefined {
  const kind = isIP(text);
  if (kind === 4) return Buffer.from(text.split('.').map(Number));
  if (kind !== 6 || text.includes('%')) return undefined;
  const words = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [left = '', right] = text.split('::');
  const head = words(left);
  const tail = right === undefined ? [] : words(right);
  const all =
    right === undefined
      ? head
      : [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  if (all.length !== 8) return undefined;
  const bytes = Buffer.alloc(16);
  for (const [index, word] of all.entries()) bytes.writeUInt16BE(word, index * 2);
  return bytes;
}

/** Text of iPAddress octets: dotted IPv4, or IPv6 in the RFC 5952 section 4 canonical form. */
export function formatIpAddress(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return `<${bytes.length}-octet address ${bytes.toString('hex')}>`;
  const words = Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2));
  // RFC 5952 4.2: compress the longest run (the first of equals) of two or more zero words.
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && words[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = (list: number[]): string => list.map((word) => word.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}
