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
  /**
   * For detectors that decide later than the input (e.g. once their baseline
   * has loaded): the engine hands them a way to raise an alert at any time.
   */
  attach?(raise: (candidate: AlertCandidate) => void): void;
  /** Called on shutdown: persist baselines, stop timers. */
  close?(): Promise<void>;
}
