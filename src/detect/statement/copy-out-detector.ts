import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput, StatementObservation } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { SessionOnce } from './session-once.js';
import type { StatementAnalyzer } from './statement-analyzer.js';
import { statementEvidence } from './statement-evidence.js';

const NONE: readonly AlertCandidate[] = [];

/**
 * `exfiltration.copy-out`: COPY … TO PROGRAM (any, run or refused: it pipes
 * a table to a shell command on the server), and a COPY … TO STDOUT that
 * returned at least `copyRows` rows (a table dump). One alert per role;
 * each table counted once per session.
 */
export class CopyOutDetector implements Detector {
  readonly name = 'copy-out';
  private readonly once = new SessionOnce();

  constructor(
    private readonly analyzer: StatementAnalyzer,
    private readonly copyRows: number,
  ) {}

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind === 'session-end') {
      this.once.ended(input.summary.session);
      return NONE;
    }
    if (input.kind !== 'statement') return NONE;
    const statement = input.statement;
    const copies = this.analyzer.facts(statement.sql).copies;
    if (copies.length === 0) return NONE;
    const program = copies.find((copy) => copy.direction === 'to' && copy.target === 'program');
    if (program !== undefined) {
      const what = `COPY ${program.relation ?? '(query)'} TO PROGRAM`;
      return this.alert(statement, input.time, `program:${program.relation}`, what);
    }
    // CopyData came back (bytes): a COPY TO STDOUT, not FROM STDIN.
    if (statement.command !== 'COPY' || statement.bytes === 0 || statement.rows < this.copyRows) {
      return NONE;
    }
    const out = copies.find((copy) => copy.direction === 'to' && copy.target === 'client');
    const what = `COPY ${out?.relation ?? '(query)'} TO STDOUT returned ${statement.rows} rows`;
    return this.alert(statement, input.time, `stdout:${out?.relation}`, what);
  }

  private alert(
    statement: StatementObservation,
    time: number,
    onceKey: string,
    what: string,
  ): readonly AlertCandidate[] {
    if (!this.once.first(statement.session, onceKey)) return NONE;
    const outcome = statement.sqlstate === undefined ? '' : ` (refused: ${statement.sqlstate})`;
    return [
      {
        type: 'exfiltration.copy-out',
        key: statement.user,
        subject: { address: statement.address, user: statement.user, session: statement.session },
        summary: `${what} by ${statement.user} from ${statement.address}${outcome}`,
        evidence: [statementEvidence(statement, time, what)],
      },
    ];
  }
}
