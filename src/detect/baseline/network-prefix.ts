import { formatIp, parseIp } from '../../gateway/firewall/ip-address.js';

/**
 * The network an address belongs to for the new-network baseline: its
 * /`ipv4Bits` or /`ipv6Bits` prefix (detection.networkPrefixIpv4/Ipv6), e.g.
 * `203.0.113.0/24` or `2001:db8:1::/48`. IPv4-mapped IPv6 counts as IPv4.
 * Undefined for anything that is not an IP address.
 */
export function networkOf(address: string, ipv4Bits: number, ipv6Bits: number): string | undefined {
  const ip = parseIp(address);
  if (ip === undefined) return undefined;
  const total = ip.family === 4 ? 32 : 128;
  const bits = Math.min(Math.max(ip.family === 4 ? ipv4Bits : ipv6Bits, 0), total);
  const hostMask = (1n << BigInt(total - bits)) - 1n;
  return `${formatIp({ family: ip.family, value: ip.value & ~hostMask })}/${bits}`;
}
