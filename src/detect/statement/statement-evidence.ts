import { byteToCharIndex, parseStatements, trimSql } from '../../audit/classify/pg-parser.js';
import { redactStatement, redactUnparsable } from '../../audit/classify/redact-sql.js';
import type { Evidence } from '../alert-candidate.js';
import type { StatementObservation } from '../detection-input.js';

/** Longest statement text an alert's evidence keeps. */
const MAX_EVIDENCE_SQL = 1000;

/**
 * A message's SQL as the audit log would show it: secrets (passwords in
 * CREATE/ALTER ROLE, connection strings) replaced, everything else kept, so
 * an injected payload is visible. Text that does not parse is redacted
 * conservatively (every literal). Cut at MAX_EVIDENCE_SQL characters.
 */
export function redactedSql(sql: string): string {
  let text: string;
  const statements = parseStatements(sql);
  if (statements === undefined || statements.length === 0) {
    text = redactUnparsable(trimSql(sql));
  } else {
    const toChar = byteToCharIndex(sql);
    text = statements
      .map((statement) => {
        const start = toChar(statement.byteStart);
        const end = statement.byteEnd === undefined ? sql.length : toChar(statement.byteEnd);
        const own = trimSql(sql.slice(start, end));
        return redactStatement(own, statement.type, statement.body).redactedText;
      })
      .join('; ');
  }
  return text.length > MAX_EVIDENCE_SQL ? `${text.slice(0, MAX_EVIDENCE_SQL)}…` : text;
}

/** One statement as evidence: who, where, and `detail` followed by the redacted SQL. */
export function statementEvidence(
  statement: StatementObservation,
  time: number,
  detail: string,
): Evidence {
  const outcome = statement.sqlstate === undefined ? '' : ` (failed: ${statement.sqlstate})`;
  return {
    time: new Date(time).toISOString(),
    event: 'statement',
    address: statement.address,
    user: statement.user,
    database: statement.database,
    applicationName: statement.applicationName,
    detail: `${detail}${outcome}: ${redactedSql(statement.sql)}`,
  };
}
