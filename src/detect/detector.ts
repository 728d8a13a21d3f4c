import type { AlertCandidate } from './alert-candidate.js';
import type { DetectionInput } from './detection-input.js';

/**
 * One detector: sees every input, raises zero or more alert candidates.
 * Must be fast and never throw (the engine isolates failures anyway): it
 * runs on the gateway's event loop.
 */
export interface Detector {
  /** Stable name for logs and the docs, e.g. `brute-force`. */
  readonly name: string;
  observe(input: DetectionInput): readonly AlertCandidate[];
  /** Called on shutdown: persist baselines, stop timers. */
  close?(): Promise<void>;
}
