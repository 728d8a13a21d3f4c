import type { ScanToken } from 'libpg-query';
import {
  isRecord,
  type PgNode,
  type RawStatement,
  unwrapNode,
} from '../../audit/classify/pg-parser.js';
import {
  constantValue,
  isConstantTrue,
  isNumericType,
  operatorOf,
  typeNameOf,
} from './constant-value.js';
import {
  functionName,
  isNodeType,
  readsOf,
  SERVER_INFO_FUNCTIONS,
  stringList,
  USER_VALUE_FUNCTIONS,
  walkNodes,
} from './tree-names.js';

/**
 * The shapes of SQL injection, read from PostgreSQL's own parse tree (and,
 * for stacking and comments, its scanner's tokens). Each is something an
 * application's own SQL practically never contains:
 *
 * - `tautology`: an OR in a WHERE, HAVING or JOIN condition with an arm that
 *   is constant and true (`OR 1=1`, `OR 'a'='a'`, `OR true`, `OR 2>1`) or
 *   compares a column with itself;
 * - `constant-comparison`: a comparison of two constants in a condition
 *   (`AND 5921=5921`, sqlmap's boolean probes), except `1=1`, `1=0`, `0=1`
 *   and their `<>` forms, which query builders write for empty filters;
 * - `stacked-after-quote`: a Query message whose later statement follows a
 *   statement that ends in a string constant (`name = ''; DROP TABLE t--`);
 * - `union-catalog`: a UNION of an arm reading user tables with an arm
 *   reading the catalog (pg_catalog, information_schema, pg_shadow…) or
 *   server information (version(), current_user…);
 * - `union-null-probe`: a UNION of a user query with an arm of NULLs only
 *   (`UNION SELECT NULL,NULL--`: counting the columns);
 * - `time-based`: pg_sleep, pg_sleep_for or pg_sleep_until in a condition,
 *   a CASE, a subquery, a UNION arm or a stacked statement;
 * - `error-based-cast`: a cast to a number of server information
 *   (`CAST(version() AS int)`, `current_user::int`), of a concatenation with
 *   a subquery on a table, or, in a condition, of a subquery on a table
 *   other than an aggregate (`CAST((SELECT password FROM users) AS int)`);
 * - `catalog-probe`: a condition of a user query that reads the role and
 *   settings catalogs in a subquery, or server information (blind
 *   inference: `AND ASCII(SUBSTR((SELECT usename FROM pg_user …),1,1))>64`,
 *   `AND SUBSTR(version(),1,10)='PostgreSQL'`);
 * - `comment-truncation`: a `--` comment that swallows the rest of the
 *   application's statement: it begins with a quote (`'admin'--' AND …`),
 *   or is empty and ends the text (`… OR 1=1--`).
 */
export const INJECTION_SHAPES = [
  'tautology',
  'constant-comparison',
  'stacked-after-quote',
  'union-catalog',
  'union-null-probe',
  'time-based',
  'error-based-cast',
  'catalog-probe',
  'comment-truncation',
] as const;
export type InjectionShape = (typeof INJECTION_SHAPES)[number];

const IN_CONDITION = 1;
const IN_CASE = 2;
const IN_SUBQUERY = 4;
const STACKED = 8;
const IN_UNION = 16;

const CONDITION_FIELDS = new Set(['whereClause', 'havingClause', 'quals']);
const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const SLEEP_FUNCTIONS = new Set(['pg_sleep', 'pg_sleep_for', 'pg_sleep_until']);
const AGGREGATES = new Set(['count', 'sum', 'min', 'max', 'avg', 'bool_and', 'bool_or']);
/** String builders an error-based payload wraps its leak in. */
const TEXT_BUILDERS = new Set(['chr', 'concat', 'concat_ws', 'string_agg', 'array_to_string']);

/**
 * The injection shapes of parsed statements; `tokens` (when scanned) are the
 * message's. `byValue` tells whether a constant's value decided anything
 * (`OR 1=1` against `OR 1=0`): if not, every text that differs only in its
 * constants has the same shapes.
 */
export function injectionShapes(
  statements: readonly RawStatement[],
  tokens: readonly ScanToken[] | undefined,
): { shapes: Set<InjectionShape>; byValue: boolean } {
  const found = new Set<InjectionShape>();
  const seen = { byValue: false };
  statements.forEach((statement, index) => {
    const walker = new ShapeWalker(found, seen);
    walker.node(statement.type, statement.body, index > 0 ? STACKED : 0);
    if (index > 0 && tokens !== undefined && followsString(tokens, statement.byteStart)) {
      found.add('stacked-after-quote');
    }
  });
  if (tokens !== undefined && truncatedByComment(tokens)) found.add('comment-truncation');
  return { shapes: found, byValue: seen.byValue };
}

class ShapeWalker {
  /** The statement reads a user table somewhere (computed on first need). */
  private userData: boolean | undefined;
  private root: PgNode | undefined;

  constructor(
    private readonly found: Set<InjectionShape>,
    /** Set when a constant's value decided something: another value may decide otherwise. */
    private readonly seen: { byValue: boolean },
  ) {}

  node(type: string, body: PgNode, flags: number): void {
    this.root ??= body;
    let inner = flags;
    switch (type) {
      case 'SelectStmt':
        if (body.op !== undefined && body.op !== 'SETOP_NONE') {
          this.union(body);
          inner |= IN_UNION;
        }
        break;
      case 'BoolExpr':
        if (flags & IN_CONDITION && body.boolop === 'OR_EXPR') this.orExpr(body);
        break;
      case 'A_Expr':
        if (flags & IN_CONDITION) this.comparison(body);
        break;
      case 'FuncCall': {
        const name = functionName(body);
        if (name !== undefined && SLEEP_FUNCTIONS.has(name) && flags !== 0)
          this.found.add('time-based');
        if (name !== undefined && SERVER_INFO_FUNCTIONS.has(name) && flags & IN_CONDITION) {
          this.probe();
        }
        break;
      }
      case 'TypeCast':
        if (
          isNumericType(typeNameOf(body.typeName)) &&
          castLeaks(body.arg, (flags & IN_CONDITION) !== 0)
        ) {
          this.found.add('error-based-cast');
        }
        break;
      case 'CaseExpr':
        inner |= IN_CASE;
        break;
      case 'SubLink':
        inner |= IN_SUBQUERY;
        if (flags & IN_CONDITION) this.conditionSubquery(body);
        break;
      case 'RangeSubselect':
        inner |= IN_SUBQUERY;
        break;
    }
    this.fields(body, inner);
  }

  private fields(body: PgNode, flags: number): void {
    for (const key in body) {
      const value = body[key];
      if (typeof value !== 'object' || value === null) continue;
      this.value(value, CONDITION_FIELDS.has(key) ? flags | IN_CONDITION : flags);
    }
  }

  private value(value: unknown, flags: number): void {
    if (Array.isArray(value)) {
      for (const item of value) this.value(item, flags);
      return;
    }
    if (!isRecord(value)) return;
    for (const key in value) {
      const child = value[key];
      if (typeof child !== 'object' || child === null) continue;
      if (isNodeType(key) && isRecord(child)) this.node(key, child, flags);
      else this.value(child, CONDITION_FIELDS.has(key) ? flags | IN_CONDITION : flags);
    }
  }

  private orExpr(body: PgNode): void {
    const args = Array.isArray(body.args) ? body.args : [];
    if (args.some((arg) => constantValue(arg) !== undefined)) this.seen.byValue = true;
    if (args.some((arg) => isConstantTrue(arg) || comparesColumnWithItself(arg))) {
      this.found.add('tautology');
    }
  }

  private comparison(body: PgNode): void {
    if (body.kind !== 'AEXPR_OP') return;
    const op = operatorOf(body);
    if (op === undefined || !COMPARISONS.has(op)) return;
    const left = constantValue(body.lexpr);
    const right = constantValue(body.rexpr);
    if (left === undefined || right === undefined) return;
    this.seen.byValue = true;
    const bit = (value: unknown): boolean => value === 0 || value === 1;
    const idiom = bit(left) && bit(right) && (op === '=' || op === '<>' || op === '!=');
    if (!idiom) this.found.add('constant-comparison');
  }

  private union(body: PgNode): void {
    const arms = setOperationArms(body);
    const reads = arms.map((arm) => readsOf(arm));
    const nullArm = arms.findIndex((arm) => onlyNulls(arm));
    for (let i = 0; i < arms.length; i++) {
      const arm = reads[i];
      if (arm === undefined) continue;
      const probes = arm.catalog || arm.serverInfo || arm.settings || arm.userInfo;
      if (!probes && i !== nullArm) continue;
      const withUserData = reads.some((other, j) => j !== i && other.user);
      if (!withUserData) continue;
      this.found.add(probes ? 'union-catalog' : 'union-null-probe');
    }
  }

  private conditionSubquery(body: PgNode): void {
    const reads = readsOf(body.subselect);
    if (reads.secretCatalog || reads.serverInfo) this.probe();
  }

  /** The role or settings catalogs, or server information, read in a condition of a user query. */
  private probe(): void {
    this.userData ??= readsOf(this.root).user;
    if (this.userData) this.found.add('catalog-probe');
  }
}

/** The arms of a UNION / INTERSECT / EXCEPT, nested ones flattened. */
function setOperationArms(body: PgNode): PgNode[] {
  if (body.op === undefined || body.op === 'SETOP_NONE') return [body];
  const arms: PgNode[] = [];
  for (const side of [body.larg, body.rarg])
    if (isRecord(side)) arms.push(...setOperationArms(side));
  return arms;
}

/** `SELECT NULL, NULL, …` with no FROM. */
function onlyNulls(arm: PgNode): boolean {
  if (
    arm.fromClause !== undefined ||
    !Array.isArray(arm.targetList) ||
    arm.targetList.length === 0
  ) {
    return false;
  }
  return arm.targetList.every((target) => {
    const res = unwrapNode(target);
    const value = res?.[0] === 'ResTarget' ? unwrapNode(res[1].val) : undefined;
    return value?.[0] === 'A_Const' && value[1].isnull === true;
  });
}

/** `name = name`: true for every row where name is not null. */
function comparesColumnWithItself(node: unknown): boolean {
  const expr = unwrapNode(node);
  if (expr?.[0] !== 'A_Expr' || expr[1].kind !== 'AEXPR_OP' || operatorOf(expr[1]) !== '=')
    return false;
  const left = unwrapNode(expr[1].lexpr);
  const right = unwrapNode(expr[1].rexpr);
  if (left?.[0] !== 'ColumnRef' || right?.[0] !== 'ColumnRef') return false;
  const a = stringList(left[1].fields);
  const b = stringList(right[1].fields);
  return a.length > 0 && a.join('.') === b.join('.');
}

/** Whether a numeric cast's argument leaks something into the error message. */
function castLeaks(arg: unknown, inCondition: boolean): boolean {
  let info = false;
  let anySubquery = false;
  let subquery = false;
  let concat = false;
  let textBuilder = false;
  walkNodes({ arg }, (type, body) => {
    if (type === 'FuncCall') {
      const name = functionName(body);
      if (name !== undefined && SERVER_INFO_FUNCTIONS.has(name)) info = true;
      if (name !== undefined && TEXT_BUILDERS.has(name)) textBuilder = true;
    } else if (type === 'SQLValueFunction') {
      if (typeof body.op === 'string' && USER_VALUE_FUNCTIONS.has(body.op)) info = true;
    } else if (type === 'A_Expr') {
      if (operatorOf(body) === '||') concat = true;
    } else if (type === 'SubLink') {
      anySubquery = true;
      if (readsTable(body.subselect) && !aggregateOnly(body.subselect)) subquery = true;
    }
    return true;
  });
  if (info) return true;
  // sqlmap's CAST((CHR(113)||…)||(SELECT …)::text||… AS NUMERIC).
  if ((concat || textBuilder) && anySubquery) return true;
  return inCondition && subquery;
}

/** A subquery with a FROM: `(SELECT current_setting('app.tenant'))` reads no table. */
function readsTable(subselect: unknown): boolean {
  const select = unwrapNode(subselect);
  return select !== undefined && Array.isArray(select[1].fromClause);
}

/** `(SELECT count(*) …)`: a subquery whose one column is an aggregate, a number by nature. */
function aggregateOnly(subselect: unknown): boolean {
  const select = unwrapNode(subselect);
  const targets = select?.[1].targetList;
  if (!Array.isArray(targets) || targets.length !== 1) return false;
  const res = unwrapNode(targets[0]);
  const value = res?.[0] === 'ResTarget' ? unwrapNode(res[1].val) : undefined;
  if (value?.[0] !== 'FuncCall') return false;
  const name = functionName(value[1]);
  return value[1].agg_star === true || (name !== undefined && AGGREGATES.has(name));
}

const STRING_TOKENS = new Set(['SCONST', 'USCONST', 'BCONST', 'XCONST']);
const COMMENT_TOKENS = new Set(['SQL_COMMENT', 'C_COMMENT']);

/** Whether the `;` before byte `start` comes right after a string constant. */
function followsString(tokens: readonly ScanToken[], start: number): boolean {
  let i = tokens.length - 1;
  while (i >= 0 && (tokens[i] as ScanToken).start >= start) i--;
  while (i >= 0 && COMMENT_TOKENS.has((tokens[i] as ScanToken).tokenName)) i--;
  if (i < 0 || (tokens[i] as ScanToken).text !== ';') return false;
  i--;
  while (i >= 0 && COMMENT_TOKENS.has((tokens[i] as ScanToken).tokenName)) i--;
  return i >= 0 && STRING_TOKENS.has((tokens[i] as ScanToken).tokenName);
}

/** A `--` comment beginning with a quote (after any `)`), or an empty one at the very end. */
const QUOTE_COMMENT = /^--[\s)]*['"]/;
const EMPTY_COMMENT = /^--\s*$/;

function truncatedByComment(tokens: readonly ScanToken[]): boolean {
  const last = tokens.length - 1;
  return tokens.some(
    (token, i) =>
      token.tokenName === 'SQL_COMMENT' &&
      (QUOTE_COMMENT.test(token.text) || (i === last && i > 0 && EMPTY_COMMENT.test(token.text))),
  );
}
