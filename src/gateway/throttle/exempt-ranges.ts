import { type AddressRange, inRange, parseAddressRange } from '../../access/address-range.js';
import { parseIp } from '../firewall/ip-address.js';

/**
 * detection.throttle.exemptRanges: addresses the throttle never blocks and
 * response actions never act on (monitoring, the office, the load balancer).
 * An entry that is not an address or CIDR is reported and skipped.
 */
export class ExemptRanges {
  private readonly ranges: readonly AddressRange[];
  /** The entries that could not be parsed. */
  readonly invalid: readonly string[];

  constructor(entries: readonly string[]) {
    const ranges: AddressRange[] = [];
    const invalid: string[] = [];
    for (const entry of entries) {
      const range = parseAddressRange(entry.trim());
      if (range === undefined) invalid.push(entry);
      else ranges.push(range);
    }
    this.ranges = ranges;
    this.invalid = invalid;
  }

  has(address: string): boolean {
    const ip = parseIp(address);
    return ip !== undefined && this.ranges.some((range) => inRange(ip, range));
  }
}
