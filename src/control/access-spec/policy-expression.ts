import { loadSqlParser, parseStatements, scanTokens } from '../../audit/classify/pg-parser.js';

/**
 * Checks that a policy's USING / WITH CHECK text is one SQL expression and
 * nothing more, with PostgreSQL's own parser: the text is pasted into
 * CREATE POLICY, so `true); DROP TABLE t; --` or `a) WITH CHECK (b` must not
 * get through (docs: CREATE POLICY, "using_expression"). Comments are refused too.
 */
export async function isSingleExpression(text: string): Promise<boolean> {
  await loadSqlParser();
  // No comments: `true) --` would comment out the rest of the generated line (the WITH CHECK).
  const tokens = scanTokens(text);
  if (tokens === undefined || tokens.some((t) => t.tokenName.endsWith('_COMMENT'))) return false;
  const statements = parseStatements(`SELECT (${text})`);
  if (statements?.length !== 1) return false;
  const [statement] = statements;
  if (statement?.type !== 'SelectStmt') return false;
  const body = statement.body;
  const targets = body.targetList;
  // Only the one target: any FROM, WHERE, ORDER BY… key means the text closed the parenthesis.
  const keys = Object.keys(body).filter(
    (k) => k !== 'targetList' && k !== 'limitOption' && k !== 'op',
  );
  return Array.isArray(targets) && targets.length === 1 && keys.length === 0;
}
