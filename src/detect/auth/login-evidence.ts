import type { SecurityEvent } from '../../gateway/security-events.js';
import type { Evidence } from '../alert-candidate.js';

/** A login event as evidence: who, from where, with what; never a secret (events carry none). */
export function loginEvidence(event: SecurityEvent, time: number): Evidence {
  return {
    time: new Date(time).toISOString(),
    event: event.event,
    address: event.address,
    user: event.user,
    database: event.database,
    applicationName: event.applicationName,
    detail: event.detail,
  };
}
