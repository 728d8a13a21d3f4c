import type { AlertCandidate } from './alert-candidate.js';
import { ALERT_TYPES, type AlertSeverity } from './alert-catalog.js';

/** A candidate with its catalogue entry and the time it was raised: what sinks receive. */
export interface RaisedAlert extends AlertCandidate {
  readonly severity: AlertSeverity;
  readonly tactic: string;
  readonly technique: string;
  readonly description: string;
  readonly raisedAt: string;
}

export function raise(candidate: AlertCandidate, now: Date): RaisedAlert {
  const info = ALERT_TYPES[candidate.type];
  return {
    ...candidate,
    severity: info.severity,
    tactic: info.tactic,
    technique: info.technique,
    description: info.description,
    raisedAt: now.toISOString(),
  };
}

/**
 * Where raised alerts go: the state database (deduplicated, with status),
 * webhooks, the audit log and its sinks, and response actions.
 */
export interface AlertSink {
  readonly name: string;
  deliver(alert: RaisedAlert): void;
  close?(): Promise<void>;
}
