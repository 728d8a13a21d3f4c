import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import type { AddressBlocklist } from './address-blocklist.js';

/** One alert per address per hour; the alert store counts the rest into it. */
const REALERT_MS = 3_600_000;
/** Addresses remembered as alerted at most (expired ones go first). */
const MAX_REMEMBERED = 10_000;

/**
 * login.suspicious-ip: a login, or a login attempt, from an address on the
 * blocklist (detection.blocklistFile). Judged at authentication (`auth.*`
 * events), not at connect: the firewall has let the peer in and it presented
 * a role, which is the cloud's "logon from a suspicious IP". A blocklisted
 * scanner that the firewall turns away is the firewall's business and would
 * only bury real alerts.
 */
export class SuspiciousIpDetector implements Detector {
  readonly name = 'suspicious-ip';
  private readonly alerted = new Map<string, number>();

  constructor(private readonly blocklist: () => AddressBlocklist | undefined) {}

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind !== 'event' || !input.event.event.startsWith('auth.')) return [];
    const { event, time } = input;
    const last = this.alerted.get(event.address);
    if (last !== undefined && time - last < REALERT_MS) return [];
    const entry = this.blocklist()?.match(event.address);
    if (entry === undefined) return [];
    this.remember(event.address, time);
    const login =
      event.event === 'auth.succeeded' ? 'logged in' : `tried to log in (${event.event})`;
    const who = event.user === undefined ? '' : ` as "${event.user}"`;
    return [
      {
        type: 'login.suspicious-ip',
        key: event.address,
        subject: { address: event.address, user: event.user, principal: event.principal },
        summary: `${event.address}, on the blocklist (${entry.text}), ${login}${who}`,
        evidence: [
          {
            time: new Date(time).toISOString(),
            event: event.event,
            address: event.address,
            user: event.user,
            database: event.database,
            applicationName: event.applicationName,
            detail: `blocklist line ${entry.line}: ${entry.text}`,
          },
        ],
      },
    ];
  }

  private remember(address: string, time: number): void {
    if (this.alerted.size >= MAX_REMEMBERED) {
      for (const [known, at] of this.alerted)
        if (time - at >= REALERT_MS) this.alerted.delete(known);
      // Still full: forget the oldest (Maps iterate in insertion order).
      if (this.alerted.size >= MAX_REMEMBERED) {
        const oldest = this.alerted.keys().next();
        if (oldest.done !== true) this.alerted.delete(oldest.value);
      }
    }
    this.alerted.delete(address);
    this.alerted.set(address, time);
  }
}
