import type { DetectionConfig } from '../../config/config-schema.js';
import type { SecurityEvent } from '../../gateway/security-events.js';
import type { AlertSink, RaisedAlert } from '../raised-alert.js';
import type { SessionControl } from '../threat-detection.js';
import type { SourceBlocker } from './source-blocker.js';

/** What a terminated client reads: vague on purpose, the event says which alert. */
export const TERMINATE_MESSAGE = 'terminating connection because of a security alert';

/**
 * The response actions of detection.responses: per alert type, end the
 * alert's session (or every session from its address) and block its source
 * address for a while in the throttle's block list. Exempt addresses
 * (detection.throttle.exemptRanges) are never acted on. Each alert's actions
 * are recorded as one `alert.response` (6002) event.
 *
 * Sessions are ended on the next turn of the event loop: an alert raised by
 * a login's own event (auth.succeeded) arrives while that session is still
 * being set up, and is ended cleanly once it relays.
 */
export class ResponseAlertSink implements AlertSink {
  readonly name = 'responses';

  constructor(
    private readonly responses: DetectionConfig['responses'],
    private readonly sessions: SessionControl,
    private readonly blocker: SourceBlocker,
    private readonly recordEvent: (event: SecurityEvent) => void,
    private readonly defer: (action: () => void) => void = (action) => setImmediate(action),
  ) {}

  deliver(alert: RaisedAlert): void {
    const response = this.responses[alert.type];
    if (response === undefined) return;
    const block = response.blockSourceSeconds;
    if (!response.terminateSession && block === undefined) return;
    const address = alert.subject.address;
    if (address !== undefined && this.blocker.isExempt(address)) {
      this.record(alert, `no action: ${address} is in detection.throttle.exemptRanges`);
      return;
    }
    const done: string[] = [];
    if (block !== undefined) {
      if (address === undefined) done.push('no source address to block');
      else if (this.blocker.block(address, block, `alert ${alert.type} (${alert.key})`))
        done.push(`blocked ${address} for ${block} s`);
      else done.push(`${address} not blocked: no block list`);
    }
    if (!response.terminateSession) {
      this.record(alert, done.join('; '));
      return;
    }
    this.defer(() => {
      const session = alert.subject.session;
      const ended =
        session !== undefined
          ? Number(this.sessions.terminate(session, TERMINATE_MESSAGE))
          : address !== undefined
            ? this.sessions.terminateFrom(address, TERMINATE_MESSAGE)
            : 0;
      const which =
        session !== undefined
          ? `session ${session}`
          : address !== undefined
            ? `sessions from ${address}`
            : undefined;
      done.unshift(
        which === undefined
          ? 'no session or address to end'
          : ended > 0
            ? `ended ${ended} ${which}`
            : `no live ${which} to end`,
      );
      this.record(alert, done.join('; '));
    });
  }

  private record(alert: RaisedAlert, detail: string): void {
    this.recordEvent({
      event: 'alert.response',
      address: alert.subject.address ?? 'local',
      session: alert.subject.session,
      user: alert.subject.user,
      principal: alert.subject.principal,
      detail,
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
