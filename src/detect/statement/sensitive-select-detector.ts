import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { SessionOnce } from './session-once.js';
import type { StatementAnalyzer } from './statement-analyzer.js';
import { statementEvidence } from './statement-evidence.js';

const NONE: readonly AlertCandidate[] = [];

/**
 * `exfiltration.sensitive-select`: `SELECT *` (or `t.*`, or `TABLE t`) on a
 * table of `detection.sensitiveTables`, that the server ran (a refused one
 * collected nothing). Entries are `schema.table`, a bare name meaning
 * `public.name`; a statement's unqualified table is taken to be in `public`
 * too (the gateway does not follow search_path). Names compare as
 * PostgreSQL stores them: lower case unless created quoted. One alert per
 * role and table; counted once per session.
 */
export class SensitiveSelectDetector implements Detector {
  readonly name = 'sensitive-select';
  private readonly once = new SessionOnce();
  private readonly tables: ReadonlySet<string>;

  constructor(
    private readonly analyzer: StatementAnalyzer,
    sensitiveTables: readonly string[],
  ) {
    this.tables = new Set(sensitiveTables.map((t) => (t.includes('.') ? t : `public.${t}`)));
  }

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind === 'session-end') {
      this.once.ended(input.summary.session);
      return NONE;
    }
    if (input.kind !== 'statement' || input.statement.sqlstate !== undefined) return NONE;
    const statement = input.statement;
    const starTables = this.analyzer.facts(statement.sql).starTables;
    const alerts: AlertCandidate[] = [];
    for (const table of starTables) {
      if (!this.tables.has(table) || !this.once.first(statement.session, table)) continue;
      alerts.push({
        type: 'exfiltration.sensitive-select',
        key: `${statement.user}:${table}`,
        subject: { address: statement.address, user: statement.user, session: statement.session },
        summary: `SELECT * on sensitive table ${table} by ${statement.user} (${statement.rows} rows)`,
        evidence: [statementEvidence(statement, input.time, `SELECT * on ${table}`)],
      });
    }
    return alerts;
  }
}
