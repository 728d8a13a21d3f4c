import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { SessionOnce } from './session-once.js';
import type { StatementAnalyzer } from './statement-analyzer.js';
import { statementEvidence } from './statement-evidence.js';

const NONE: readonly AlertCandidate[] = [];

/**
 * `privilege-escalation.server-access`: a statement that reaches the
 * server's files, programs or network — lo_import/lo_export,
 * pg_read_file/pg_read_binary_file/pg_ls_dir/pg_stat_file (and adminpack's
 * writers), COPY FROM PROGRAM, COPY to or from a server file, CREATE
 * EXTENSION/LANGUAGE of one that reaches outside the database. Raised
 * whether the server ran it or refused it: the attempt is the news. (COPY
 * TO PROGRAM is exfiltration.copy-out.) One alert per role; each reach
 * counted once per session.
 */
export class ServerAccessDetector implements Detector {
  readonly name = 'server-access';
  private readonly once = new SessionOnce();

  constructor(private readonly analyzer: StatementAnalyzer) {}

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind === 'session-end') {
      this.once.ended(input.summary.session);
      return NONE;
    }
    if (input.kind !== 'statement') return NONE;
    const statement = input.statement;
    const reaches = this.analyzer.facts(statement.sql).serverAccess;
    if (reaches.length === 0) return NONE;
    const fresh = reaches.filter((reach) => this.once.first(statement.session, reach));
    if (fresh.length === 0) return NONE;
    const list = reaches.join(', ');
    const outcome =
      statement.sqlstate === undefined ? 'ran' : `was refused (${statement.sqlstate})`;
    return [
      {
        type: 'privilege-escalation.server-access',
        key: statement.user,
        subject: { address: statement.address, user: statement.user, session: statement.session },
        summary: `${statement.user} reached for the server (${list}); the statement ${outcome}`,
        evidence: [statementEvidence(statement, input.time, list)],
      },
    ];
  }
}
