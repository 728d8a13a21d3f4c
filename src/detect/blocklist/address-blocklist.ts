import { parseAddressRange } from '../../access/address-range.js';
import { type IpAddress, parseIp } from '../../gateway/firewall/ip-address.js';

/** One address or CIDR range of the file, with where it was written. */
export interface BlocklistEntry {
  readonly text: string;
  /** 1-based line number. */
  readonly line: number;
  readonly start: IpAddress;
  readonly end: IpAddress;
}

/** A line that is neither blank, a comment, nor an address or range. */
export interface BlocklistProblem {
  readonly line: number;
  readonly text: string;
}

/** Sorted, merged ranges of one family, for a binary search. */
interface Ranges {
  readonly starts: bigint[];
  readonly ends: bigint[];
}

/**
 * A blocklist: IPv4/IPv6 addresses and CIDR ranges, one per line; `#` (and
 * `;`, as in Spamhaus DROP) starts a comment; blank lines are skipped.
 * Malformed lines are kept as problems, not fatal: one typo must not switch
 * the whole list off. Membership is a binary search over merged ranges, so
 * lists of 100k ranges cost nothing per connection.
 */
export class AddressBlocklist {
  private readonly v4: Ranges;
  private readonly v6: Ranges;

  private constructor(
    readonly entries: readonly BlocklistEntry[],
    readonly problems: readonly BlocklistProblem[],
  ) {
    this.v4 = merge(entries.filter((e) => e.start.family === 4));
    this.v6 = merge(entries.filter((e) => e.start.family === 6));
  }

  static parse(text: string): AddressBlocklist {
    const entries: BlocklistEntry[] = [];
    const problems: BlocklistProblem[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i] as string;
      const content = raw.replace(/[#;].*$/, '').trim();
      if (content === '') continue;
      const range = parseAddressRange(content);
      if (range === undefined) problems.push({ line: i + 1, text: content.slice(0, 200) });
      else entries.push({ text: content, line: i + 1, start: range.start, end: range.end });
    }
    return new AddressBlocklist(entries, problems);
  }

  /** The entry an address is in, or undefined (also for text that is not an address). */
  match(address: string): BlocklistEntry | undefined {
    const ip = parseIp(address);
    if (ip === undefined) return undefined;
    const { starts, ends } = ip.family === 4 ? this.v4 : this.v6;
    // The last merged range starting at or before the address.
    let low = 0;
    let high = starts.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if ((starts[mid] as bigint) <= ip.value) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found < 0 || (ends[found] as bigint) < ip.value) return undefined;
    // A hit is rare: finding the line it came from may scan the list.
    return this.entries.find(
      (e) => e.start.family === ip.family && e.start.value <= ip.value && ip.value <= e.end.value,
    );
  }
}

function merge(entries: readonly BlocklistEntry[]): Ranges {
  const sorted = [...entries].sort((a, b) =>
    a.start.value < b.start.value ? -1 : a.start.value > b.start.value ? 1 : 0,
  );
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  for (const { start, end } of sorted) {
    const last = ends.length - 1;
    if (last >= 0 && start.value <= (ends[last] as bigint) + 1n) {
      if (end.value > (ends[last] as bigint)) ends[last] = end.value;
    } else {
      starts.push(start.value);
      ends.push(end.value);
    }
  }
  return { starts, ends };
}
