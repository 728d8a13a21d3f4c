import type { AlertType } from './alert-catalog.js';

/** One piece of evidence: an event that contributed to an alert. Never a secret. */
export interface Evidence {
  readonly time: string;
  /** The security event name (auth.failed, guard.escalation, …) or `statement`. */
  readonly event: string;
  readonly address?: string | undefined;
  readonly user?: string | undefined;
  readonly database?: string | undefined;
  readonly applicationName?: string | undefined;
  /** Why, in a few words: the event's detail, a statement's text (redacted), a count. */
  readonly detail?: string | undefined;
}

/** Who or what an alert is about; also what a response acts on. */
export interface AlertSubject {
  readonly address?: string | undefined;
  readonly user?: string | undefined;
  readonly principal?: string | undefined;
  /** The gateway session, for alerts about one session (terminate-session acts on it). */
  readonly session?: string | undefined;
}

/**
 * What a detector raises. Alerts with the same type and key are one alert
 * (a count, not a thousand rows) until resolved.
 */
export interface AlertCandidate {
  readonly type: AlertType;
  /** Deduplication key within the type, e.g. the source address or the role. */
  readonly key: string;
  readonly subject: AlertSubject;
  /** One line for people. */
  readonly summary: string;
  /** The events that triggered it, oldest first, at most a few dozen. */
  readonly evidence: readonly Evidence[];
}

/** Most evidence items an alert carries: the first ones and the latest ones are kept. */
export const MAX_EVIDENCE = 20;
