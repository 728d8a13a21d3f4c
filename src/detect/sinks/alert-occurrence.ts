import type { Evidence } from '../alert-candidate.js';
import type { AlertStatus } from '../alert-store.js';
import type { RaisedAlert } from '../raised-alert.js';

/**
 * An alert as the store left it after a write: what notifications (webhooks)
 * are built from. When the store could not write (the state database is
 * down), `id` and `status` are undefined and the rest counts only the raises
 * this gateway saw, so the notice still goes out.
 */
export interface AlertOccurrence {
  /** The latest raise: type, severity, tactic, technique, summary, subject. */
  readonly alert: RaisedAlert;
  readonly id: number | undefined;
  readonly status: AlertStatus | undefined;
  /** True when this write opened the alert (a new row). */
  readonly opened: boolean;
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly evidence: readonly Evidence[];
}
