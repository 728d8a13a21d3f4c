/**
 * Audit classes with pgaudit's semantics (pgaudit README, "pgaudit.log"), and
 * the classification of a raw parse tree statement into one of them.
 *
 * pgaudit classifies in two steps, and so do we: first PostgreSQL's
 * GetCommandLogLevel() (the level `log_statement` uses: MOD, DDL or ALL),
 * then pgaudit's refinement of that level by statement type
 * (log_audit_event() in pgaudit.c):
 *
 * - MOD → WRITE (EXECUTE → MISC)
 * - DDL → ROLE for GRANT/REVOKE (of privileges and of roles), CREATE/ALTER/DROP
 *   ROLE, ALTER ROLE … SET, ALTER DEFAULT PRIVILEGES, CREATE/ALTER USER MAPPING,
 *   renaming a role; otherwise DDL
 * - ALL → READ for SELECT, COPY … TO, DECLARE CURSOR, PREPARE; FUNCTION for DO;
 *   MISC_SET for SET and RESET (one node type in PostgreSQL); otherwise MISC
 *
 * Where we depart from pgaudit, it is to miss fewer writes and calls:
 * - CALL is FUNCTION (pgaudit logs the statement as MISC and the execution of
 *   the procedure as FUNCTION; a gateway only sees the statement).
 * - A statement that would be READ but contains a data-modifying statement
 *   (`WITH d AS (DELETE …) SELECT …`, `COPY (INSERT … RETURNING …) TO …`) is
 *   WRITE, as is EXPLAIN ANALYZE of one (which executes it).
 */

import type { PgNode } from './pg-parser.js';
import { isRecord, unwrapNode } from './pg-parser.js';

export type AuditClass =
  | 'READ'
  | 'WRITE'
  | 'FUNCTION'
  | 'ROLE'
  | 'DDL'
  | 'MISC'
  | 'MISC_SET'
  | 'UNKNOWN';

export const AUDIT_CLASSES: readonly AuditClass[] = [
  'READ',
  'WRITE',
  'FUNCTION',
  'ROLE',
  'DDL',
  'MISC',
  'MISC_SET',
  'UNKNOWN',
];

/** PostgreSQL's LogStmtLevel, minus NONE. */
export type LogStmtLevel = 'MOD' | 'DDL' | 'ALL';

const MOD_STATEMENTS: ReadonlySet<string> = new Set([
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'TruncateStmt',
]);

/** Statements GetCommandLogLevel() puts at level ALL; everything else not MOD is DDL. */
const ALL_STATEMENTS: ReadonlySet<string> = new Set([
  'SelectStmt',
  'PLAssignStmt',
  'TransactionStmt',
  'DeclareCursorStmt',
  'ClosePortalStmt',
  'FetchStmt',
  'CopyStmt',
  'PrepareStmt',
  'ExecuteStmt',
  'DeallocateStmt',
  'DoStmt',
  'NotifyStmt',
  'ListenStmt',
  'UnlistenStmt',
  'LoadStmt',
  'CallStmt',
  'VacuumStmt',
  'ExplainStmt',
  'VariableSetStmt',
  'VariableShowStmt',
  'DiscardStmt',
  'LockStmt',
  'ConstraintsSetStmt',
  'CheckPointStmt',
  'ReindexStmt',
]);

/** DDL-level statements pgaudit logs in the ROLE class. */
const ROLE_STATEMENTS: ReadonlySet<string> = new Set([
  'CreateRoleStmt',
  'AlterRoleStmt',
  'AlterRoleSetStmt',
  'DropRoleStmt',
  'GrantStmt',
  'GrantRoleStmt',
  'AlterDefaultPrivilegesStmt',
  'CreateUserMappingStmt',
  'AlterUserMappingStmt',
]);

/** ALL-level statements pgaudit logs in the READ class. */
const READ_STATEMENTS: ReadonlySet<string> = new Set([
  'SelectStmt',
  'CopyStmt',
  'DeclareCursorStmt',
  'PrepareStmt',
]);

const FALSE_WORDS: ReadonlySet<string> = new Set(['false', 'off', '0', 'no', 'f', 'n']);

/** Whether `EXPLAIN` runs its statement: `EXPLAIN ANALYZE …` or `EXPLAIN (ANALYZE [true]) …`. */
export function explainAnalyzes(body: PgNode): boolean {
  const options = body.options;
  if (!Array.isArray(options)) return false;
  let analyze = false;
  for (const option of options) {
    const defElem = unwrapNode(option);
    if (defElem === undefined || defElem[1].defname !== 'analyze') continue;
    const arg = unwrapNode(defElem[1].arg);
    if (arg === undefined) {
      analyze = true; // bare ANALYZE
      continue;
    }
    const [argType, argBody] = arg;
    if (argType === 'Boolean') analyze = argBody.boolval === true;
    else if (argType === 'Integer')
      analyze = typeof argBody.ival === 'number' && argBody.ival !== 0;
    else if (argType === 'String') {
      analyze = !FALSE_WORDS.has(String(argBody.sval ?? '').toLowerCase());
    } else analyze = true;
  }
  return analyze;
}

/** PostgreSQL's GetCommandLogLevel() on a raw statement. */
export function logStmtLevelOf(nodeType: string, body: PgNode): LogStmtLevel {
  if (MOD_STATEMENTS.has(nodeType)) return 'MOD';
  switch (nodeType) {
    case 'SelectStmt':
      return body.intoClause === undefined ? 'ALL' : 'DDL';
    case 'CopyStmt':
      return body.is_from === true ? 'MOD' : 'ALL';
    case 'PrepareStmt':
      return innerLevel(body.query) ?? 'ALL';
    case 'ExplainStmt':
      return explainAnalyzes(body) ? (innerLevel(body.query) ?? 'ALL') : 'ALL';
    default:
      return ALL_STATEMENTS.has(nodeType) ? 'ALL' : 'DDL';
  }
}

function innerLevel(query: unknown): LogStmtLevel | undefined {
  const inner = unwrapNode(query);
  return inner === undefined ? undefined : logStmtLevelOf(inner[0], inner[1]);
}

/** The audit class of a statement of the raw parse tree. */
export function auditClassOf(nodeType: string, body: PgNode): AuditClass {
  if (nodeType === 'CallStmt') return 'FUNCTION';
  switch (logStmtLevelOf(nodeType, body)) {
    case 'MOD':
      return nodeType === 'ExecuteStmt' ? 'MISC' : 'WRITE';
    case 'DDL':
      if (ROLE_STATEMENTS.has(nodeType)) return 'ROLE';
      if (nodeType === 'RenameStmt' && body.renameType === 'OBJECT_ROLE') return 'ROLE';
      return 'DDL';
    case 'ALL':
      if (READ_STATEMENTS.has(nodeType)) {
        return containsDataModification(body) ? 'WRITE' : 'READ';
      }
      if (nodeType === 'ExplainStmt' && explainAnalyzes(body) && containsDataModification(body)) {
        return 'WRITE';
      }
      if (nodeType === 'DoStmt') return 'FUNCTION';
      if (nodeType === 'VariableSetStmt') return 'MISC_SET';
      return 'MISC';
  }
}

const MODIFYING_NODES: ReadonlySet<string> = new Set([
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
]);

/** Whether a data-modifying statement node occurs anywhere under `body`. */
export function containsDataModification(body: PgNode): boolean {
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
    } else if (isRecord(value)) {
      for (const key in value) {
        if (MODIFYING_NODES.has(key)) return true;
        const child = value[key];
        if (typeof child === 'object' && child !== null) stack.push(child);
      }
    }
  }
  return false;
}
