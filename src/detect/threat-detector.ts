import type { SecurityEvent, SecurityEventSink } from '../gateway/security-events.js';
import type { AlertCandidate } from './alert-candidate.js';
import type { DetectionInput, SessionSummary, StatementObservation } from './detection-input.js';
import type { Detector } from './detector.js';
import { type AlertSink, raise } from './raised-alert.js';

/**
 * The detection engine: every security event and every finished statement
 * goes through each detector; what they raise goes to every alert sink.
 * A detector or sink that throws is reported once and skipped, never
 * allowed to take a session down.
 */
export class ThreatDetector implements SecurityEventSink {
  private readonly failed = new Set<string>();

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly sinks: readonly AlertSink[],
    private readonly onWarning: (message: string) => void,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Whether sessions feed it their statements: not when detection is off (no detectors). */
  get wantsStatements(): boolean {
    return this.detectors.length > 0;
  }

  /** SecurityEventSink: the gateway's security events. */
  record(event: SecurityEvent): void {
    this.observe({ kind: 'event', time: this.clock().getTime(), event });
  }

  statement(statement: StatementObservation): void {
    this.observe({ kind: 'statement', time: this.clock().getTime(), statement });
  }

  sessionEnded(summary: SessionSummary): void {
    this.observe({ kind: 'session-end', time: this.clock().getTime(), summary });
  }

  observe(input: DetectionInput): void {
    for (const detector of this.detectors) {
      let candidates: ReturnType<Detector['observe']>;
      try {
        candidates = detector.observe(input);
      } catch (error) {
        this.report(`detector ${detector.name}`, error);
        continue;
      }
      for (const candidate of candidates) {
        const alert = raise(candidate, this.clock());
        for (const sink of this.sinks) {
          try {
            sink.deliver(alert);
          } catch (error) {
            this.report(`alert sink ${sink.name}`, error);
          }
        }
      }
    }
  }

  /**
   * A sensor's own finding, which needs no detector to judge it (a session
   * read a honeytoken): straight to the alert sinks.
   */
  alert(candidate: AlertCandidate): void {
    const alert = raise(candidate, this.clock());
    for (const sink of this.sinks) {
      try {
        sink.deliver(alert);
      } catch (error) {
        this.report(`alert sink ${sink.name}`, error);
      }
    }
  }

  async close(): Promise<void> {
    for (const detector of this.detectors) await detector.close?.().catch(() => undefined);
    for (const sink of this.sinks) await sink.close?.().catch(() => undefined);
  }

  private report(what: string, error: unknown): void {
    if (this.failed.has(what)) return;
    this.failed.add(what);
    this.onWarning(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
