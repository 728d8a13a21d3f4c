import type { z } from 'zod';
import type { AuditConfig, AuditSinkSchema } from '../config/config-schema.js';
import { PgwardenError } from '../errors.js';
import { type MessageTap, TapWant } from '../gateway/relay/message-scanner.js';
import { SECURITY_EVENTS, type SecurityEvent } from '../gateway/security-events.js';
import type { DataDirLayout } from '../server/data-dir-layout.js';
import { classesFor, isAudited } from './audit-policy.js';
import { SqlClassifier } from './classify/classify-sql.js';
import { auditPaths } from './log/audit-paths.js';
import { AuditWriter } from './log/audit-writer.js';
import { OtlpLogSink, WebhookSink } from './sinks/http-sinks.js';
import type { AuditSink } from './sinks/queued-sink.js';
import { SyslogSink } from './sinks/syslog-sink.js';
import {
  BACKEND_WANTS,
  BACKEND_WANTS_WITH_VOLUME,
  type FinishedStatement,
  FRONTEND_WANTS,
  type StatementInfo,
  type StatementResult,
  StatementTracker,
} from './tap/statement-tracker.js';

/** Stable event codes of audit records (5xxx; connection events keep the 1xxx–4xxx security codes). */
export const AUDIT_EVENTS = {
  statement: 5001,
  'session.closed': 5002,
} as const;

/** What every record of one session carries. */
export interface SessionAuditContext {
  readonly session: string;
  readonly address: string;
  readonly port: number | undefined;
  readonly tls: string;
  readonly database: string;
  readonly user: string;
  readonly applicationName: string | undefined;
}

export interface SessionAudit {
  readonly clientTap: MessageTap;
  readonly backendTap: MessageTap;
  /** Rows and statements seen, for the session's closing record. */
  readonly totals: { readonly statements: number; readonly rows: number };
  /**
   * In durable mode: the write of the records completed since the last call,
   * which the relay waits for before it passes the backend's answer on.
   */
  readonly takeDurableWait?: () => Promise<void> | undefined;
}

/**
 * The gateway's audit: classifies statements with PostgreSQL's own parser,
 * applies the policy, and appends records to the hash-chained log. Off the
 * relay's path: records are queued and written in batches; nothing waits for
 * the disk unless `durable` is on.
 */
export class Auditor {
  private constructor(
    private config: AuditConfig,
    private readonly classifier: SqlClassifier,
    private readonly writer: AuditWriter,
    readonly sinks: readonly AuditSink[],
  ) {}

  static async start(
    layout: DataDirLayout,
    config: AuditConfig,
    onError: (error: Error) => void,
  ): Promise<Auditor> {
    const classifier = await SqlClassifier.create();
    const paths = auditPaths(layout.root);
    const writer = await AuditWriter.open({
      dir: paths.logDir,
      keyFile: paths.keyFile,
      anchorFile: paths.anchorFile,
      maxFileBytes: config.maxFileMegabytes * 1024 * 1024,
      maxFileAgeMs: config.rotateHours * 3_600_000,
      retentionDays: config.retentionDays,
      durable: config.durable,
      onError,
    });
    return new Auditor(
      config,
      classifier,
      writer,
      config.sinks.map((sink) => createSink(sink, onError)),
    );
  }

  reconfigure(config: AuditConfig): void {
    this.config = config;
  }

  /**
   * Connection events (firewall, TLS, authentication, limits), when
   * `connection` is audited; threat detection's (6xxx: alert.raised, …)
   * always: a policy that leaves connections out must not silence alerts.
   */
  connectionEvent(event: SecurityEvent): void {
    const code = SECURITY_EVENTS[event.event];
    const detection = code >= 6000 && code < 7000;
    if (!detection && !classesFor(this.config, event.user, event.database).has('connection'))
      return;
    void this.emit({ code, ...event });
  }

  /**
   * Taps for one authenticated session, or undefined when none of its
   * statements are audited and no `onStatement` feed (threat detection) wants them.
   */
  session(
    context: SessionAuditContext,
    onStatement?: (statement: FinishedStatement) => void,
  ): SessionAudit | undefined {
    const classes = classesFor(this.config, context.user, context.database);
    const statementClasses = [...classes].some((c) => c !== 'connection' && c !== 'parameters');
    if (!statementClasses && onStatement === undefined) return undefined;
    const maxBody = this.config.maxStatementBytes;
    let durableWait: Promise<void> | undefined;
    const durable = this.config.durable;
    const tracker = new StatementTracker(
      // Nothing audited: the feed needs only the text, so nothing is parsed for the audit.
      statementClasses ? (sql) => this.classifier.classify(sql) : () => UNCLASSIFIED,
      (result) => {
        const written = this.statement(context, result);
        // Batches are written in order: the last record's write covers the earlier ones.
        if (durable) durableWait = written;
      },
      {
        sessionUser: context.user,
        captureParameters: classes.has('parameters'),
        audited: (statementClass) => statementClasses && isAudited(classes, statementClass),
        onStatement,
      },
    );
    return {
      clientTap: {
        wants: CLIENT_WANTS,
        maxBody,
        onMessage: (type, body) => tracker.fromClient(type, body),
      },
      backendTap: {
        wants: onStatement === undefined ? BACKEND_WANT_TABLE : BACKEND_WANT_TABLE_WITH_VOLUME,
        maxBody: 1024,
        onMessage: (type, body, length) => tracker.fromBackend(type, body, length),
      },
      // The closing record counts audited sessions' statements only, as before the feed.
      totals: statementClasses ? tracker.totals : NO_TOTALS,
      ...(durable && statementClasses
        ? {
            takeDurableWait: () => {
              const wait = durableWait;
              durableWait = undefined;
              return wait;
            },
          }
        : {}),
    };
  }

  /** The session's last record: how long, how much, how it ended. */
  sessionClosed(
    context: SessionAuditContext,
    summary: {
      durationMs: number;
      bytesIn: number;
      bytesOut: number;
      statements: number;
      rows: number;
      reason: string;
    },
  ): void {
    if (!classesFor(this.config, context.user, context.database).has('connection')) return;
    void this.emit({
      code: AUDIT_EVENTS['session.closed'],
      event: 'session.closed',
      ...context,
      ...summary,
    });
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.close()));
    await this.writer.close();
  }

  /**
   * The chained file log first; then the optional sinks, which only ever queue.
   * Returns the file log's write (already resolved unless durable).
   */
  private emit(record: { code: number; event: string; [key: string]: unknown }): Promise<void> {
    const written = this.writer.append(record);
    if (this.sinks.length === 0) return written;
    const withTime = { time: new Date().toISOString(), ...record };
    for (const sink of this.sinks) sink.send(withTime);
    return written;
  }

  private statement(context: SessionAuditContext, result: StatementResult): Promise<void> {
    const { parameters } = result;
    return this.emit({
      code: AUDIT_EVENTS.statement,
      event: 'statement',
      ...context,
      role: result.role,
      statementId: result.statementId,
      protocol: result.protocol,
      ...(result.statementName === undefined ? {} : { prepared: result.statementName }),
      class: result.info.class,
      command: result.info.commandTag,
      objects: result.info.objects,
      statement: result.info.redactedText,
      outcome: result.outcome,
      error: result.error,
      rows: result.rows,
      durationMs: result.durationMs,
      // Only when the policy asks for them, and never for a statement that may carry a secret.
      ...(parameters === undefined
        ? {}
        : { parameters: result.info.sensitive ? parameters.map(() => REDACTED) : parameters }),
    });
  }
}

const REDACTED = '<redacted>';

/** Which messages each direction's tap wants (indexed by type byte): built once. */
function wantTable(wants: ReadonlyArray<readonly [number, 'body' | 'notify']>): Uint8Array {
  const table = new Uint8Array(256);
  for (const [type, want] of wants) table[type] = want === 'body' ? TapWant.BODY : TapWant.NOTIFY;
  return table;
}

const CLIENT_WANTS = wantTable(FRONTEND_WANTS);
const BACKEND_WANT_TABLE = wantTable(BACKEND_WANTS);
const BACKEND_WANT_TABLE_WITH_VOLUME = wantTable(BACKEND_WANTS_WITH_VOLUME);

const NO_TOTALS = Object.freeze({ statements: 0, rows: 0 });

/** What a session audits nothing of gets instead of a parse: never recorded. */
const UNCLASSIFIED: readonly StatementInfo[] = Object.freeze([
  Object.freeze({
    text: '',
    redactedText: '',
    class: 'UNKNOWN',
    commandTag: 'UNKNOWN',
    objects: [],
    sensitive: true,
  }),
]);

function createSink(
  config: z.output<typeof AuditSinkSchema>,
  onError: (error: Error) => void,
): AuditSink {
  if (config.type === 'syslog') {
    return new SyslogSink({
      host: config.host,
      port: config.port,
      protocol: config.protocol,
      maxQueue: config.maxQueue,
      onError,
    });
  }
  if (new URL(config.url).protocol !== 'https:' && !config.allowPlaintextHttp) {
    throw new PgwardenError('PGW_CONFIG_INVALID', `audit sink ${config.url} is not https`, {
      hint: 'use an https:// URL, or set allowPlaintextHttp: true for a trusted local endpoint',
    });
  }
  const options = {
    url: config.url,
    tokenFile: config.tokenFile,
    maxQueue: config.maxQueue,
    onError,
  };
  return config.type === 'webhook' ? new WebhookSink(options) : new OtlpLogSink(options);
}
