import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput, StatementObservation } from '../detection-input.js';
import type { Detector } from '../detector.js';
import type { AdminMembership } from './admin-membership.js';
import type { StatementAnalyzer } from './statement-analyzer.js';
import { statementEvidence } from './statement-evidence.js';

const NONE: readonly AlertCandidate[] = [];

/**
 * `privilege-escalation.security-definer`: CREATE [OR REPLACE] FUNCTION or
 * PROCEDURE … SECURITY DEFINER, or ALTER FUNCTION … SECURITY DEFINER, that
 * the server ran, by a role that is not a member of pgwarden_admin. Such a
 * function runs with its owner's rights for whoever may call it: a
 * non-administrator planting one is preparing to borrow someone's rights
 * (or lend its own to a trap). Membership comes from admin-membership.ts;
 * when its answer is not cached yet the verdict waits for it and is raised
 * through the engine's `attach` hook, or else with the next input the
 * engine sees. One alert per role and function.
 */
export class SecurityDefinerDetector implements Detector {
  readonly name = 'security-definer';
  /** Verdicts whose membership answer came after their statement, for the next input. */
  private ready: AlertCandidate[] = [];
  /** The engine's way to raise at any time, when it offers one (then nothing waits). */
  private raise: ((candidate: AlertCandidate) => void) | undefined;

  constructor(
    private readonly analyzer: StatementAnalyzer,
    private readonly admins: AdminMembership,
  ) {}

  attach(raise: (candidate: AlertCandidate) => void): void {
    this.raise = raise;
  }

  observe(input: DetectionInput): readonly AlertCandidate[] {
    const alerts = this.takeReady();
    if (input.kind === 'event') {
      // A login: know the role before its first statement.
      if (input.event.event === 'auth.succeeded' && input.event.user !== undefined) {
        void this.admins.lookup(input.event.user);
      }
      return alerts;
    }
    if (input.kind !== 'statement' || input.statement.sqlstate !== undefined) return alerts;
    const statement = input.statement;
    const functions = this.analyzer.facts(statement.sql).securityDefiners;
    if (functions.length === 0) return alerts;
    const admin = this.admins.known(statement.user);
    if (admin === undefined) {
      void this.admins.lookup(statement.user).then((isAdmin) => {
        if (isAdmin) return;
        const late = this.alerts(statement, input.time, functions);
        if (this.raise === undefined) this.ready.push(...late);
        else for (const alert of late) this.raise(alert);
      });
      return alerts;
    }
    return admin ? alerts : [...alerts, ...this.alerts(statement, input.time, functions)];
  }

  private takeReady(): readonly AlertCandidate[] {
    if (this.ready.length === 0) return NONE;
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  private alerts(
    statement: StatementObservation,
    time: number,
    functions: readonly string[],
  ): AlertCandidate[] {
    return functions.map((name) => ({
      type: 'privilege-escalation.security-definer' as const,
      key: `${statement.user}:${name}`,
      subject: { address: statement.address, user: statement.user, session: statement.session },
      summary: `SECURITY DEFINER function ${name} created by ${statement.user}, not an administrator`,
      evidence: [statementEvidence(statement, time, `SECURITY DEFINER ${name}`)],
    }));
  }
}
