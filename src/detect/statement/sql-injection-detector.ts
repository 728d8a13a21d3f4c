import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { SessionOnce } from './session-once.js';
import type { StatementAnalyzer } from './statement-analyzer.js';
import { statementEvidence } from './statement-evidence.js';

const NONE: readonly AlertCandidate[] = [];

/**
 * `sql-injection`: a statement with an injection shape in its parse tree
 * (injection-shapes.ts), whether the server ran it or refused it. One alert
 * per role and source address (an application server probed through a web
 * form is one address), counted once per session and shape.
 */
export class SqlInjectionDetector implements Detector {
  readonly name = 'sql-injection';
  private readonly once = new SessionOnce();

  constructor(private readonly analyzer: StatementAnalyzer) {}

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind === 'session-end') {
      this.once.ended(input.summary.session);
      return NONE;
    }
    if (input.kind !== 'statement') return NONE;
    const statement = input.statement;
    const shapes = this.analyzer.facts(statement.sql).injection;
    if (shapes.size === 0) return NONE;
    const found = [...shapes];
    // Every shape is marked as seen, not only the first new one.
    const fresh = found.filter((shape) => this.once.first(statement.session, shape));
    if (fresh.length === 0) return NONE;
    const list = found.join(', ');
    return [
      {
        type: 'sql-injection',
        key: `${statement.user}@${statement.address}`,
        subject: { address: statement.address, user: statement.user, session: statement.session },
        summary: `SQL injection shape (${list}) in a statement by ${statement.user} from ${statement.address}`,
        evidence: [statementEvidence(statement, input.time, list)],
      },
    ];
  }
}
