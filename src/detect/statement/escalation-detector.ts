import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import type { StatementAnalyzer } from './statement-analyzer.js';
import { statementEvidence } from './statement-evidence.js';

const NONE: readonly AlertCandidate[] = [];
const INSUFFICIENT_PRIVILEGE = '42501';
/** A guard refusal's statement answers within the catalog check's 10 s; older marks are stale. */
const REFUSAL_MEMORY_MS = 60_000;

/**
 * `privilege-escalation.attempt`, from two sources:
 *
 * - the statement guard's refusals (guard.escalation, guard.internal-role):
 *   it refused the statement before the server saw it;
 * - role statements that would grant power — SUPERUSER, BYPASSRLS or
 *   REPLICATION in CREATE/ALTER ROLE, membership of a privileged predefined
 *   role or an internal role, any change to an internal role — that the
 *   server refused (42501) or ran. A statement that ran was allowed by
 *   `guardrails.privilegedRoles`, yet a role gaining that much power is
 *   rare and worth one look (the alert says it succeeded).
 *
 * The guard replaces a refused statement with one that fails with 42501,
 * so the same attempt also arrives as a failed statement: a refusal is
 * remembered for its session and that statement raises nothing more. One
 * alert per role.
 */
export class EscalationDetector implements Detector {
  readonly name = 'privilege-escalation';
  /** Guard refusals whose failed statement has not come back yet, per session. */
  private readonly refusals = new Map<string, { count: number; at: number }>();

  constructor(private readonly analyzer: StatementAnalyzer) {}

  observe(input: DetectionInput): readonly AlertCandidate[] {
    switch (input.kind) {
      case 'event':
        return this.guardEvent(input.event, input.time);
      case 'statement':
        return this.statement(input.statement, input.time);
      case 'session-end':
        this.refusals.delete(input.summary.session);
        return NONE;
    }
  }

  private guardEvent(
    event: Extract<DetectionInput, { kind: 'event' }>['event'],
    time: number,
  ): readonly AlertCandidate[] {
    if (event.event !== 'guard.escalation' && event.event !== 'guard.internal-role') return NONE;
    const user = event.user ?? '';
    const key = event.session ?? `${user}@${event.address}`;
    const mark = this.refusals.get(key);
    this.refusals.set(key, { count: (mark?.count ?? 0) + 1, at: time });
    this.forgetStale(time);
    const what = event.guard?.statement ?? 'a role statement';
    return [
      {
        type: 'privilege-escalation.attempt',
        key: user,
        subject: { address: event.address, user: event.user, session: event.session },
        summary: `${what} by ${user} refused by the statement guard (${event.guard?.reason ?? event.event})`,
        evidence: [
          {
            time: new Date(time).toISOString(),
            event: event.event,
            address: event.address,
            user: event.user,
            database: event.database,
            applicationName: event.applicationName,
            detail: event.detail,
          },
        ],
      },
    ];
  }

  private statement(
    statement: Extract<DetectionInput, { kind: 'statement' }>['statement'],
    time: number,
  ): readonly AlertCandidate[] {
    const failed = statement.sqlstate !== undefined;
    if (failed && statement.sqlstate !== INSUFFICIENT_PRIVILEGE) return NONE;
    const escalations = this.analyzer.facts(statement.sql).escalations;
    if (escalations.length === 0) return NONE;
    if (
      failed &&
      this.refusedByGuard(statement.session, `${statement.user}@${statement.address}`)
    ) {
      return NONE;
    }
    const list = escalations.join('; ');
    const outcome = failed ? 'refused by the server' : 'succeeded';
    return [
      {
        type: 'privilege-escalation.attempt',
        key: statement.user,
        subject: { address: statement.address, user: statement.user, session: statement.session },
        summary: `${list} by ${statement.user}: ${outcome}`,
        evidence: [statementEvidence(statement, time, outcome)],
      },
    ];
  }

  /** Takes one remembered guard refusal of this session, if there is one. */
  private refusedByGuard(session: string, fallback: string): boolean {
    for (const key of [session, fallback]) {
      const mark = this.refusals.get(key);
      if (mark === undefined) continue;
      if (mark.count <= 1) this.refusals.delete(key);
      else mark.count--;
      return true;
    }
    return false;
  }

  private forgetStale(now: number): void {
    if (this.refusals.size < 1000) return;
    for (const [key, mark] of this.refusals) {
      if (now - mark.at > REFUSAL_MEMORY_MS) this.refusals.delete(key);
    }
  }
}
