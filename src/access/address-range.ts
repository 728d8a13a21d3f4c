import { type IpAddress, parseCidr, parseIp } from '../gateway/firewall/ip-address.js';

/** An inclusive block of addresses of one family. */
export interface AddressRange {
  readonly start: IpAddress;
  readonly end: IpAddress;
  /** The base address had bits set below the prefix (`10.1.2.3/8`), which is usually a typo. */
  readonly hostBitsSet: boolean;
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32` or a single address. Stricter than the
 * firewall's parser on purpose: no surrounding space and no zone id, since a
 * policy range names addresses, not interfaces.
 */
export function parseAddressRange(text: string): AddressRange | undefined {
  if (!/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(text)) return undefined;
  const slash = text.indexOf('/');
  const single = slash < 0 ? parseIp(text) : undefined;
  if (single !== undefined) return { start: single, end: single, hostBitsSet: false };
  if (slash < 0) return undefined;
  const block = parseCidr(text);
  const base = parseIp(text.slice(0, slash));
  if (block === undefined || base === undefined) return undefined;
  return { ...block, hostBitsSet: base.value !== block.start.value };
}

export function inRange(ip: IpAddress, range: AddressRange): boolean {
  return (
    ip.family === range.start.family && ip.value >= range.start.value && ip.value <= range.end.value
  );
}
