import type { DetectionConfig } from '../../config/config-schema.js';
import type { SecurityEvent, SecurityEventSink } from '../security-events.js';
import { ExemptRanges } from './exempt-ranges.js';
import { failedLogin } from './failed-login.js';
import { RecentMap } from './recent-map.js';

/** Why a source is blocked: the throttle's own count, or an alert's response action. */
export type BlockCause = 'failed-logins' | 'alert-response';

interface Block {
  readonly until: number;
  readonly cause: BlockCause;
  /** For the security event: what started the block. */
  readonly reason: string;
}

/** A source that is refused now. */
export interface BlockedSource {
  readonly remainingSeconds: number;
  /** What the client is told (FATAL 53300). */
  readonly message: string;
  /** What the security event keeps. */
  readonly detail: string;
}

export interface ThrottleLimits {
  /** Addresses whose recent failures are counted at once; the least recently seen is forgotten. */
  readonly maxAddresses: number;
  /** Blocks held at once; the least recently touched is dropped (and so released). */
  readonly maxBlocks: number;
}

const DEFAULT_LIMITS: ThrottleLimits = { maxAddresses: 10_000, maxBlocks: 100_000 };

/**
 * The cloud's per-address connection throttle: after `failures` failed
 * logins from one address within `windowSeconds`, new connections from it
 * are refused for `blockSeconds`. Response actions add blocks to the same
 * list. It counts the gateway's security events (a SecurityEventSink), runs
 * whether detection is enabled or not, and keeps everything in memory: a
 * restart releases every block.
 */
export class LoginThrottle implements SecurityEventSink {
  private readonly failures: RecentMap<string, number[]>;
  private readonly blocks: RecentMap<string, Block>;
  readonly exempt: ExemptRanges;

  constructor(
    private readonly settings: DetectionConfig['throttle'],
    private readonly clock: () => number = Date.now,
    limits: ThrottleLimits = DEFAULT_LIMITS,
  ) {
    this.exempt = new ExemptRanges(settings.exemptRanges);
    this.failures = new RecentMap(limits.maxAddresses);
    this.blocks = new RecentMap(limits.maxBlocks);
  }

  /** SecurityEventSink: counts failed logins per source address. */
  record(event: SecurityEvent): void {
    if (failedLogin(event) === undefined || this.exempt.has(event.address)) return;
    const now = this.clock();
    const since = now - this.settings.windowSeconds * 1000;
    const times = (this.failures.get(event.address) ?? []).filter((time) => time > since);
    times.push(now);
    if (times.length < this.settings.failures) {
      this.failures.set(event.address, times);
      return;
    }
    // The block starts a fresh count: once it ends the source has `failures` tries again.
    this.failures.delete(event.address);
    this.addBlock(event.address, {
      until: now + this.settings.blockSeconds * 1000,
      cause: 'failed-logins',
      reason: `${times.length} failed logins within ${this.settings.windowSeconds} s`,
    });
  }

  /** The block on `address` now, if any. */
  blocked(address: string): BlockedSource | undefined {
    const block = this.blocks.get(address);
    if (block === undefined) return undefined;
    const left = block.until - this.clock();
    if (left <= 0) {
      this.blocks.delete(address);
      return undefined;
    }
    const remainingSeconds = Math.ceil(left / 1000);
    return {
      remainingSeconds,
      message:
        block.cause === 'failed-logins'
          ? `too many failed logins from ${address}: temporarily blocked for ${remainingSeconds} s`
          : `connections from ${address} are temporarily blocked for ${remainingSeconds} s`,
      detail: `blocked until ${new Date(block.until).toISOString()}: ${block.reason}`,
    };
  }

  /**
   * Blocks `address` for `seconds` (a response action); a longer block in
   * place is kept. False, and nothing done, for an exempt address.
   */
  block(address: string, seconds: number, reason: string): boolean {
    if (this.exempt.has(address)) return false;
    this.addBlock(address, {
      until: this.clock() + seconds * 1000,
      cause: 'alert-response',
      reason,
    });
    return true;
  }

  isExempt(address: string): boolean {
    return this.exempt.has(address);
  }

  private addBlock(address: string, block: Block): void {
    const current = this.blocks.peek(address);
    if (current !== undefined && current.until >= block.until) return;
    this.blocks.set(address, block);
  }
}
