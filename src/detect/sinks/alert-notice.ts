import type { AlertOccurrence } from './alert-occurrence.js';

/** Why a notice goes out: the alert was opened, or is still firing. */
export type NoticeReason = 'opened' | 'repeated';

/** What a notifier remembers of an alert it has seen. */
export interface TrackedNotice {
  /** The stored id of the alert last noticed, when the store knew it. */
  readonly id: number | undefined;
  /** When a notice of it last went out (ms). */
  readonly lastDelivered: number;
  readonly count: number;
  readonly firstSeen: string;
}

/**
 * Whether an occurrence is news: the first one of an alert is; a new row
 * after the alert was resolved is; a repeat is once `repeatMs` have passed
 * since the last notice, so a brute-force run of thousands of attempts makes
 * one notice on opening and then one per interval. Undefined: stay quiet.
 */
export function noticeReason(
  previous: TrackedNotice | undefined,
  occurrence: AlertOccurrence,
  now: number,
  repeatMs: number,
): NoticeReason | undefined {
  const { opened, id } = occurrence;
  // Unstored (database down) and never seen: as far as anyone can tell, it is new.
  const reason: NoticeReason =
    opened || (previous === undefined && id === undefined) ? 'opened' : 'repeated';
  if (previous === undefined) return reason;
  if (opened && id !== undefined && previous.id !== undefined && id !== previous.id)
    return 'opened';
  return now - previous.lastDelivered >= repeatMs ? reason : undefined;
}

/**
 * The JSON body of a webhook delivery (docs/detection.md, "Webhooks"):
 * `event` says why, `delivery` is unique per notice (kept across retries,
 * for the receiver to drop duplicates), `alert` is the alert as stored.
 */
export function alertNotice(
  occurrence: AlertOccurrence,
  reason: NoticeReason,
  delivery: string,
): Record<string, unknown> {
  const { alert } = occurrence;
  return {
    event: reason === 'opened' ? 'alert.opened' : 'alert.repeated',
    delivery,
    alert: {
      id: occurrence.id ?? null,
      type: alert.type,
      severity: alert.severity,
      tactic: alert.tactic,
      technique: alert.technique,
      description: alert.description,
      summary: alert.summary,
      key: alert.key,
      status: occurrence.status ?? null,
      subject: alert.subject,
      evidence: occurrence.evidence,
      count: occurrence.count,
      firstSeen: occurrence.firstSeen,
      lastSeen: occurrence.lastSeen,
    },
  };
}
