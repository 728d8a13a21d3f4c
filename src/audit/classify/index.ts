/** SQL classification for the audit log: pgaudit classes, command tags, objects, redaction. */

export type { AuditClass, LogStmtLevel } from './audit-class.js';
export { AUDIT_CLASSES, auditClassOf, logStmtLevelOf } from './audit-class.js';
export type { ClassifiedStatement, SqlClassifierOptions } from './classify-sql.js';
export { classifySqlUncached, SqlClassifier } from './classify-sql.js';
export { collectObjects } from './collect-objects.js';
export { commandTagOf } from './command-tag.js';
export { isSqlParserLoaded, loadSqlParser } from './pg-parser.js';
export type { Redaction } from './redact-sql.js';
export {
  isSensitiveStatement,
  looksSensitive,
  REDACTED_LITERAL,
  redactQuotedLiterals,
  redactSql,
  redactStatement,
  redactStringLiterals,
  redactUnparsable,
} from './redact-sql.js';
