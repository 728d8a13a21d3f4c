import { appendFile } from 'node:fs/promises';

/**
 * Security events of the gateway, each with a stable numeric code grouped by
 * range, so a SIEM can rely on them (1xxx network, 2xxx TLS, 3xxx
 * authentication, 4xxx sessions and limits; 42xx the statement guard; 6xxx
 * threat detection).
 * Events never carry a password, token, key, SCRAM proof or verifier.
 */
export const SECURITY_EVENTS = {
  'connection.received': 1000,
  'firewall.denied': 1001,
  'connection.throttled': 1002,
  'tls.required': 2001,
  'tls.handshake-failed': 2002,
  'tls.alpn-missing': 2003,
  'auth.succeeded': 3001,
  'auth.failed': 3002,
  'auth.internal-role': 3003,
  'auth.no-scram-secret': 3004,
  'auth.timeout': 3005,
  'auth.backend-refused': 3006,
  'auth.token-failed': 3007,
  'auth.password-disabled': 3008,
  'auth.token-needs-tls': 3009,
  'access.denied': 3101,
  'access.requested': 3201,
  'access.approved': 3202,
  'access.denied-request': 3203,
  'access.granted': 3204,
  'access.expired': 3205,
  'access.approver-role-set': 3206,
  'access.spec-applied': 3301,
  'session.limit': 4001,
  'session.protocol-violation': 4002,
  'session.message-too-large': 4003,
  'session.idle-timeout': 4004,
  'session.ended': 4005,
  'session.token-expired': 4006,
  'session.revoked': 4007,
  'cancel.forwarded': 4101,
  'cancel.unknown-key': 4102,
  'alert.raised': 6001,
  'alert.response': 6002,
  'guard.escalation': 4201,
  'guard.internal-role': 4202,
  'guard.password': 4203,
} as const;

export type SecurityEventName = keyof typeof SECURITY_EVENTS;

export interface SecurityEvent {
  readonly event: SecurityEventName;
  readonly address: string;
  /** The gateway session the event belongs to (as in audit records), for one connection's events. */
  readonly session?: string | undefined;
  readonly user?: string | undefined;
  readonly database?: string | undefined;
  readonly applicationName?: string | undefined;
  /** The client's TCP port. */
  readonly port?: number | undefined;
  /** `none` or the TLS version (TLSv1.3, …). */
  readonly tls?: string | undefined;
  /** The authentication method: SCRAM-SHA-256, SCRAM-SHA-256-PLUS, oidc, or password (cleartext, over TLS). */
  readonly method?: string | undefined;
  /** For a token login: the principal (id, type, immutable id and provider). */
  readonly principal?: string | undefined;
  readonly detail?: string | undefined;
  readonly rule?: string | undefined;
  /** For just-in-time access (32xx): the request, its role, requester, approver and reason. */
  readonly access?: Readonly<Record<string, string | number | boolean | null>> | undefined;
  /** For a statement the guard refused (42xx): the reason id, the statement kind, where it was found. */
  /** For an alert (6001): its type, severity, ATT&CK tactic and technique, key and how much evidence. */
  readonly alert?:
    | Readonly<{
        type: string;
        severity: string;
        tactic: string;
        technique: string;
        key: string;
        evidence: number;
      }>
    | undefined;
  readonly guard?:
    | Readonly<{ reason: string; statement: string; within: string; protocol: string }>
    | undefined;
}

export interface SecurityEventSink {
  record(event: SecurityEvent): void;
  flush?(): Promise<void>;
}

/**
 * Appends events as JSON lines. Writes are chained so lines never interleave,
 * and a failing disk never takes a session down with it.
 */
export class JsonLinesEventSink implements SecurityEventSink {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  record(event: SecurityEvent): void {
    const line = `${JSON.stringify({ time: new Date().toISOString(), code: SECURITY_EVENTS[event.event], ...event })}\n`;
    this.tail = this.tail
      .then(() => appendFile(this.file, line, { mode: 0o600 }))
      .catch(() => undefined);
  }

  /** Resolves when every recorded event is on disk (for shutdown and tests). */
  flush(): Promise<void> {
    return this.tail;
  }
}
