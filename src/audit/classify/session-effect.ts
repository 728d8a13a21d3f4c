import { isRecord, type PgNode, unwrapNode } from './pg-parser.js';

/**
 * What a statement does to the session state the audit follows: the role
 * statements run as (PostgreSQL docs, SET ROLE: `SET [SESSION | LOCAL] ROLE
 * name | NONE`, `RESET ROLE`; `RESET ALL` and `DISCARD ALL` reset it too), and
 * `ROLLBACK TO SAVEPOINT`, whose `ROLLBACK` command tag must not be taken for
 * the end of the transaction.
 */
export type SessionEffect =
  | { readonly kind: 'role'; readonly role: string | null; readonly local: boolean }
  | { readonly kind: 'rollback-to-savepoint' };

const RESET_ROLE: SessionEffect = Object.freeze({ kind: 'role', role: null, local: false });
const ROLLBACK_TO: SessionEffect = Object.freeze({ kind: 'rollback-to-savepoint' });

export function sessionEffectOf(type: string, body: PgNode): SessionEffect | undefined {
  if (type === 'TransactionStmt') {
    return body.kind === 'TRANS_STMT_ROLLBACK_TO' ? ROLLBACK_TO : undefined;
  }
  if (type === 'DiscardStmt') return body.target === 'DISCARD_ALL' ? RESET_ROLE : undefined;
  if (type !== 'VariableSetStmt') return undefined;
  if (body.kind === 'VAR_RESET_ALL') return RESET_ROLE;
  if (body.name !== 'role') return undefined;
  const local = body.is_local === true;
  if (body.kind === 'VAR_RESET' || body.kind === 'VAR_SET_DEFAULT') {
    return Object.freeze({ kind: 'role', role: null, local });
  }
  if (body.kind !== 'VAR_SET_VALUE' || !Array.isArray(body.args) || body.args.length !== 1) {
    return undefined;
  }
  const role = constantText(body.args[0]);
  if (role === undefined) return undefined;
  // The grammar turns NONE into the string 'none', which the server reads as "no role".
  return Object.freeze({ kind: 'role', role: role === 'none' ? null : role, local });
}

function constantText(node: unknown): string | undefined {
  const unwrapped = unwrapNode(node);
  if (unwrapped === undefined || unwrapped[0] !== 'A_Const') return undefined;
  const sval = unwrapped[1].sval;
  return isRecord(sval) && typeof sval.sval === 'string' ? sval.sval : undefined;
}
