import { type IpAddress, parseIp } from './ip-address.js';

/** A firewall rule as the cloud shapes it: a named, inclusive address range. */
export interface FirewallRule {
  readonly name: string;
  readonly startIp: string;
  readonly endIp: string;
}

interface CompiledRule {
  readonly name: string;
  readonly family: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
}

export type FirewallDecision =
  | { readonly allowed: true; readonly rule: string; readonly address: string }
  | { readonly allowed: false; readonly address: string };

/**
 * Default deny: an address is allowed only when some rule's range holds it.
 * Rules are compiled once per change; a decision is a scan of a few bigints.
 */
export class Firewall {
  private rules: readonly CompiledRule[] = [];

  constructor(rules: readonly FirewallRule[] = []) {
    this.replace(rules);
  }

  replace(rules: readonly FirewallRule[]): void {
    const compiled: CompiledRule[] = [];
    for (const rule of rules) {
      const start = parseIp(rule.startIp);
      const end = parseIp(rule.endIp);
      if (start === undefined || end === undefined || start.family !== end.family) continue;
      compiled.push({ name: rule.name, family: start.family, start: start.value, end: end.value });
    }
    this.rules = compiled;
  }

  get size(): number {
    return this.rules.length;
  }

  check(remoteAddress: string | undefined): FirewallDecision {
    const ip: IpAddress | undefined =
      remoteAddress === undefined ? undefined : parseIp(remoteAddress);
    const address = normalisedText(remoteAddress, ip);
    if (ip === undefined) return { allowed: false, address };
    for (const rule of this.rules) {
      if (rule.family === ip.family && ip.value >= rule.start && ip.value <= rule.end) {
        return { allowed: true, rule: rule.name, address };
      }
    }
    return { allowed: false, address };
  }
}

function normalisedText(raw: string | undefined, ip: IpAddress | undefined): string {
  if (raw === undefined) return 'unknown';
  if (ip?.family === 4 && raw.includes(':')) return raw.slice(raw.lastIndexOf(':') + 1);
  return raw;
}
