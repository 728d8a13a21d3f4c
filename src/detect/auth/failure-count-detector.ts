import type { SecurityEvent } from '../../gateway/security-events.js';
import { type FailedLogin, failedLogin } from '../../gateway/throttle/failed-login.js';
import type { AlertCandidate, AlertSubject } from '../alert-candidate.js';
import type { AlertType } from '../alert-catalog.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { FailureWindows, keyBudget, type WindowHit } from './failure-windows.js';
import { loginEvidence } from './login-evidence.js';

/** A brute-force detector that counts failed logins per key in a sliding window. */
export interface FailureCountSpec {
  readonly name: string;
  readonly type: AlertType;
  readonly threshold: number;
  readonly windowSeconds: number;
  /** The key a failed login counts under, or undefined when it does not count here. */
  keyOf(event: SecurityEvent, failure: FailedLogin): string | undefined;
  subject(key: string): AlertSubject;
  summary(key: string, hit: WindowHit): string;
}

export class FailureCountDetector implements Detector {
  readonly name: string;
  private readonly windows: FailureWindows;

  constructor(private readonly spec: FailureCountSpec) {
    this.name = spec.name;
    this.windows = new FailureWindows({
      threshold: spec.threshold,
      windowMs: spec.windowSeconds * 1000,
      maxKeys: keyBudget(spec.threshold),
    });
  }

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind !== 'event') return [];
    const failure = failedLogin(input.event);
    if (failure === undefined) return [];
    const key = this.spec.keyOf(input.event, failure);
    if (key === undefined) return [];
    const hit = this.windows.add(key, input.time, loginEvidence(input.event, input.time));
    if (hit === undefined) return [];
    return [
      {
        type: this.spec.type,
        key,
        subject: this.spec.subject(key),
        summary: this.spec.summary(key, hit),
        evidence: hit.evidence,
      },
    ];
  }
}
