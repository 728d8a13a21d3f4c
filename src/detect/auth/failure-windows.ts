import { RecentMap } from '../../gateway/throttle/recent-map.js';
import { type Evidence, MAX_EVIDENCE } from '../alert-candidate.js';

/** A key whose count reached the threshold: first time (`crossed`) or again later (`repeat`). */
export interface WindowHit {
  readonly kind: 'crossed' | 'repeat';
  /** Failures in the window, counted up to the threshold; since the alert for a repeat. */
  readonly count: number;
  /** The failures in the window, oldest first, at most MAX_EVIDENCE (the latest). */
  readonly evidence: readonly Evidence[];
}

export interface WindowOptions {
  readonly threshold: number;
  readonly windowMs: number;
  /** Keys tracked at once; the least recently seen is forgotten. */
  readonly maxKeys: number;
  /** Least time between two alerts of a key that stays above the threshold. */
  readonly repeatMs?: number;
}

interface KeyState {
  /** Failure times, oldest first; never more than the threshold (that is all a crossing needs). */
  times: number[];
  evidence: { readonly at: number; readonly item: Evidence }[];
  /** When the key last raised, while it stays at or above the threshold. */
  raisedAt: number | undefined;
  sinceRaised: number;
}

/** One minute: further failures of a key already alerted on are reported at most this often. */
export const REPEAT_MS = 60_000;

/**
 * Sliding windows of failures per key (address, role), in bounded memory.
 * A key raises once when its count in the window reaches the threshold;
 * while it stays there, further failures raise a repeat at most once per
 * `repeatMs` (the alert store counts them into the same alert); once it
 * falls below, the next crossing raises again.
 */
export class FailureWindows {
  private readonly keys: RecentMap<string, KeyState>;
  private readonly repeatMs: number;

  constructor(private readonly options: WindowOptions) {
    this.keys = new RecentMap(options.maxKeys);
    this.repeatMs = options.repeatMs ?? REPEAT_MS;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Counts one failure at `time` (ms); says when the key crosses or repeats. */
  add(key: string, time: number, evidence: Evidence): WindowHit | undefined {
    const state = this.current(key, time) ?? {
      times: [],
      evidence: [],
      raisedAt: undefined,
      sinceRaised: 0,
    };
    const { threshold } = this.options;
    state.times.push(time);
    if (state.times.length > threshold) state.times.shift();
    state.evidence.push({ at: time, item: evidence });
    if (state.evidence.length > Math.min(threshold, MAX_EVIDENCE)) state.evidence.shift();
    this.keys.set(key, state);
    if (state.times.length < threshold) {
      state.raisedAt = undefined; // below the threshold: the next crossing is a new one
      return undefined;
    }
    const items = state.evidence.map((e) => e.item);
    if (state.raisedAt === undefined) {
      state.raisedAt = time;
      state.sinceRaised = 0;
      return { kind: 'crossed', count: state.times.length, evidence: items };
    }
    state.sinceRaised++;
    if (time - state.raisedAt < this.repeatMs) return undefined;
    const count = state.sinceRaised;
    state.raisedAt = time;
    state.sinceRaised = 0;
    return { kind: 'repeat', count, evidence: items.slice(-Math.max(1, count)) };
  }

  /** The failures of `key` in the window at `time`: how many (up to the threshold) and the evidence. */
  recent(key: string, time: number): { count: number; evidence: readonly Evidence[] } {
    const state = this.current(key, time);
    if (state === undefined) return { count: 0, evidence: [] };
    return { count: state.times.length, evidence: state.evidence.map((e) => e.item) };
  }

  delete(key: string): void {
    this.keys.delete(key);
  }

  /** The key's state with failures older than the window dropped; undefined when none are left. */
  private current(key: string, time: number): KeyState | undefined {
    const state = this.keys.peek(key);
    if (state === undefined) return undefined;
    const since = time - this.options.windowMs;
    while (state.times.length > 0 && (state.times[0] as number) <= since) state.times.shift();
    while (state.evidence.length > 0 && (state.evidence[0]?.at as number) <= since)
      state.evidence.shift();
    if (state.times.length === 0) {
      this.keys.delete(key);
      return undefined;
    }
    return state;
  }
}

/** Keys to track for a threshold: about 100 000 failures in all, between 100 and 10 000 keys. */
export function keyBudget(threshold: number): number {
  return Math.min(10_000, Math.max(100, Math.floor(100_000 / threshold)));
}
