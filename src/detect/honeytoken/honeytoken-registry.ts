import type { AlertCandidate } from '../alert-candidate.js';
import type { WatchedSession } from './honeytoken-alert.js';
import { CARRIERS } from './honeytoken-alert.js';
import { type HoneytokenRow, HoneytokenSet } from './honeytoken-set.js';
import { HoneytokenWatch } from './honeytoken-watch.js';

/**
 * A gateway's honeytokens: the current set, swapped whole when the state
 * database announces a change, so live sessions watch for a new honeytoken
 * from their next message on. With no honeytokens `wants` is all zeros and
 * the relay's scanner never calls a watch: no cost at all.
 */
export class HoneytokenRegistry {
  /** Message types the watches follow; one array shared by every watch, changed in place. */
  readonly wants = new Uint8Array(256);
  private set = HoneytokenSet.EMPTY;

  get current(): HoneytokenSet {
    return this.set;
  }

  /** Replaces the honeytokens; returns whether anything changed. */
  replace(rows: readonly HoneytokenRow[]): boolean {
    const next = HoneytokenSet.build(rows);
    if (next.signature === this.set.signature) return false;
    this.set = next;
    const on = next.size > 0 ? 1 : 0;
    for (const type of Object.keys(CARRIERS)) this.wants[Number(type)] = on;
    return true;
  }

  /** A watch for one session's backend messages; `onAlert` gets each honeytoken.read. */
  watch(session: WatchedSession, onAlert: (candidate: AlertCandidate) => void): HoneytokenWatch {
    return new HoneytokenWatch(this, session, onAlert);
  }
}
