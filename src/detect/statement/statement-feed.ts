import type { FinishedStatement } from '../../audit/tap/statement-tracker.js';
import type { SessionSummary, StatementObservation } from '../detection-input.js';

/** Where the feed delivers: the detection engine (ThreatDetector). */
export interface StatementSink {
  /** False when detection is off: then no session pays for the feed. */
  readonly wantsStatements: boolean;
  statement(statement: StatementObservation): void;
  sessionEnded(summary: SessionSummary): void;
}

/** Who a session is, as its audit records name it. */
export interface FeedSession {
  readonly session: string;
  readonly address: string;
  readonly user: string;
  readonly database: string;
  readonly applicationName: string | undefined;
}

/** The feed of one session, or undefined when detection does not want statements. */
export function statementFeed(
  engine: StatementSink,
  session: FeedSession,
): StatementFeed | undefined {
  return engine.wantsStatements ? new StatementFeed(engine, session) : undefined;
}

/**
 * One session's finished statements, as the audit's tracker pairs them with
 * the backend's answers, turned into detection inputs; and the session's
 * totals when it ends. Function calls (the fastpath) count in the totals
 * only: they carry no SQL text to judge.
 */
export class StatementFeed {
  private rows = 0;
  private bytes = 0;
  private statements = 0;
  private ended = false;

  constructor(
    private readonly engine: StatementSink,
    private readonly session: FeedSession,
  ) {}

  readonly onStatement = (finished: FinishedStatement): void => {
    if (this.ended) return;
    this.statements++;
    this.rows += finished.rowsReturned;
    this.bytes += finished.bytes;
    if (finished.protocol === 'function-call') return;
    const { session, address, user, database, applicationName } = this.session;
    this.engine.statement({
      session,
      address,
      user,
      database,
      applicationName,
      sql: finished.sql,
      protocol: finished.protocol,
      command: finished.error ? undefined : commandVerb(finished.outcome),
      rows: finished.rowsReturned,
      bytes: finished.bytes,
      sqlstate: finished.error ? finished.outcome : undefined,
    });
  };

  /** The session is over: its totals go to detection, once. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.engine.sessionEnded({
      ...this.session,
      rows: this.rows,
      bytes: this.bytes,
      statements: this.statements,
    });
  }
}

/** `INSERT 0 5` → `INSERT`, `SELECT 3` → `SELECT`, `CREATE TABLE` stays. */
export function commandVerb(tag: string): string {
  let end = tag.length;
  for (;;) {
    let start = end;
    while (start > 0 && isDigit(tag.charCodeAt(start - 1))) start--;
    if (start === end || start === 0 || tag.charCodeAt(start - 1) !== 0x20) break;
    end = start - 1;
  }
  return end === tag.length ? tag : tag.slice(0, end);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}
