import type { AlertCandidate } from '../alert-candidate.js';
import type { Honeytoken } from './honeytoken-set.js';

/** The gateway session a honeytoken watch belongs to. */
export interface WatchedSession {
  readonly session: string;
  readonly address: string;
  readonly user: string;
  readonly database: string;
  readonly applicationName: string | undefined;
}

/** Which backend message carried the marker, by type byte. */
export const CARRIERS: Readonly<Record<number, string>> = {
  68: 'DataRow', // 'D': SELECT, RETURNING, FETCH
  100: 'CopyData', // 'd': COPY … TO STDOUT
  69: 'ErrorResponse', // 'E': error-based extraction (a failed cast quoting the value)
  78: 'NoticeResponse', // 'N': RAISE NOTICE of the value
  65: 'NotificationResponse', // 'A': pg_notify with the value as payload
  86: 'FunctionCallResponse', // 'V': the fast-path function call interface
};

/**
 * honeytoken.read: one per session and honeytoken. The evidence names the
 * honeytoken by id, never by its marker: a marked row's marker is real data
 * (a customer's email, say) that must not spread to logs, SIEMs and
 * webhooks, and a planted marker seen in a log would let anyone who reads
 * the log recognise the trap and step around it. `pgwarden detect
 * honeytoken list` maps the id back, for the administrators.
 */
export function honeytokenAlert(
  session: WatchedSession,
  honeytoken: Honeytoken,
  carrier: number,
  now: Date,
): AlertCandidate {
  const where = `${honeytoken.database}.${honeytoken.table}`;
  const message = CARRIERS[carrier] ?? `message ${String.fromCharCode(carrier)}`;
  return {
    type: 'honeytoken.read',
    // One alert per honeytoken and role, counting the sessions.
    key: `${honeytoken.id}:${session.user}`,
    subject: { session: session.session, address: session.address, user: session.user },
    summary: `session ${session.session} of ${session.user} from ${session.address} read honeytoken ${honeytoken.id} (${where}) in a ${message}`,
    evidence: [
      {
        time: now.toISOString(),
        event: 'honeytoken.read',
        address: session.address,
        user: session.user,
        database: session.database,
        applicationName: session.applicationName,
        detail: `honeytoken ${honeytoken.id} of ${where} in a ${message} of session ${session.session}`,
      },
    ],
  };
}
