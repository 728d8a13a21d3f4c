import type { SecurityEvent } from '../../gateway/security-events.js';
import type { AlertSink, RaisedAlert } from '../raised-alert.js';

/**
 * Every raised alert as an `alert.raised` (6001) security event: into the
 * gateway's events file and the audit log, like every other security event.
 * Raised means seen again too: the store counts repeats into one alert.
 */
export class EventAlertSink implements AlertSink {
  readonly name = 'events';

  constructor(private readonly recordEvent: (event: SecurityEvent) => void) {}

  deliver(alert: RaisedAlert): void {
    this.recordEvent({
      event: 'alert.raised',
      address: alert.subject.address ?? 'local',
      user: alert.subject.user,
      principal: alert.subject.principal,
      detail: alert.summary,
      alert: {
        type: alert.type,
        severity: alert.severity,
        tactic: alert.tactic,
        technique: alert.technique,
        key: alert.key,
        evidence: alert.evidence.length,
      },
    });
  }
}
