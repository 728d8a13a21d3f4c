import type { SecurityEvent } from '../gateway/security-events.js';

/** A finished statement of a session, as the gateway saw it (the detection tap). */
export interface StatementObservation {
  readonly session: string;
  readonly address: string;
  readonly user: string;
  readonly database: string;
  readonly applicationName: string | undefined;
  /** The statement text as sent (cut at audit.maxStatementBytes); never logged unredacted. */
  readonly sql: string;
  readonly protocol: 'simple' | 'extended';
  /** The command tag's verb (SELECT, COPY, …), or undefined when the statement failed. */
  readonly command: string | undefined;
  readonly rows: number;
  /** Bytes of DataRow and CopyData messages the statement returned. */
  readonly bytes: number;
  /** SQLSTATE of the error, or undefined on success. */
  readonly sqlstate: string | undefined;
}

/** A session's totals when it ends. */
export interface SessionSummary {
  readonly session: string;
  readonly address: string;
  readonly user: string;
  readonly database: string;
  readonly applicationName: string | undefined;
  readonly rows: number;
  readonly bytes: number;
  readonly statements: number;
}

/** Everything detectors learn from. */
export type DetectionInput =
  | { readonly kind: 'event'; readonly time: number; readonly event: SecurityEvent }
  | { readonly kind: 'statement'; readonly time: number; readonly statement: StatementObservation }
  | { readonly kind: 'session-end'; readonly time: number; readonly summary: SessionSummary };
