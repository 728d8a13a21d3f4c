import { isRecord, type PgNode, unwrapNode } from '../../audit/classify/pg-parser.js';

/**
 * The value of an expression made of constants only (`1=1`, `'a'='a'`,
 * `2>1`, `NOT false`, `'x' IN ('x')`, `NULL IS NULL`, `1 BETWEEN 0 AND 2`,
 * `'ab' LIKE 'a%'`, `3-1=2`), or undefined when it reads anything else (a
 * column, a parameter, a function). An injected tautology is such an
 * expression; the application's own conditions almost never are.
 *
 * PostgreSQL's rules are followed where they matter for a verdict: an
 * untyped string compared with a number is read as that number; NULL
 * compares as unknown (null), so `NULL = NULL` is not true.
 */
export type ConstantValue = number | string | boolean | null;

export function constantValue(node: unknown): ConstantValue | undefined {
  const unwrapped = unwrapNode(node);
  if (unwrapped === undefined) return undefined;
  const [type, body] = unwrapped;
  switch (type) {
    case 'A_Const':
      return constOf(body);
    case 'TypeCast':
      return castOf(constantValue(body.arg), typeNameOf(body.typeName));
    case 'BoolExpr':
      return boolExprOf(body);
    case 'NullTest': {
      const value = constantValue(body.arg);
      if (value === undefined) return undefined;
      return body.nulltesttype === 'IS_NOT_NULL' ? value !== null : value === null;
    }
    case 'A_Expr':
      return aExprOf(body);
    default:
      return undefined;
  }
}

/** Whether `node` is constant and true. */
export function isConstantTrue(node: unknown): boolean {
  return constantValue(node) === true;
}

function constOf(body: PgNode): ConstantValue | undefined {
  if (body.isnull === true) return null;
  if (isRecord(body.ival)) return typeof body.ival.ival === 'number' ? body.ival.ival : 0;
  if (isRecord(body.fval)) return Number(body.fval.fval ?? 0);
  if (isRecord(body.sval)) return typeof body.sval.sval === 'string' ? body.sval.sval : '';
  if (isRecord(body.boolval)) return body.boolval.boolval === true;
  return undefined;
}

/** The last name of a TypeName (`pg_catalog.int4` → `int4`). */
export function typeNameOf(typeName: unknown): string | undefined {
  if (!isRecord(typeName) || !Array.isArray(typeName.names)) return undefined;
  const last = unwrapNode(typeName.names[typeName.names.length - 1]);
  return last?.[0] === 'String' && typeof last[1].sval === 'string' ? last[1].sval : undefined;
}

const NUMERIC_TYPES = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']);

/** Whether a type name (as typeNameOf gives it) is one of PostgreSQL's numeric types. */
export function isNumericType(name: string | undefined): boolean {
  return name !== undefined && NUMERIC_TYPES.has(name);
}

function castOf(
  value: ConstantValue | undefined,
  type: string | undefined,
): ConstantValue | undefined {
  if (value === undefined || value === null || type === undefined) return value;
  if (type === 'bool') {
    if (typeof value === 'boolean') return value;
    const text = String(value).trim().toLowerCase();
    if (['t', 'true', 'y', 'yes', 'on', '1'].includes(text)) return true;
    if (['f', 'false', 'n', 'no', 'off', '0'].includes(text)) return false;
    return undefined;
  }
  if (isNumericType(type)) {
    const number = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(number) ? number : undefined;
  }
  if (type === 'text' || type === 'varchar' || type === 'bpchar') return String(value);
  return undefined;
}

function boolExprOf(body: PgNode): ConstantValue | undefined {
  const args = Array.isArray(body.args) ? body.args.map(constantValue) : [];
  if (args.length === 0 || args.some((arg) => arg === undefined)) {
    // `x OR TRUE` is true and `x AND FALSE` false whatever x is.
    if (body.boolop === 'OR_EXPR' && args.includes(true)) return true;
    if (body.boolop === 'AND_EXPR' && args.includes(false)) return false;
    return undefined;
  }
  switch (body.boolop) {
    case 'NOT_EXPR':
      return args[0] === null ? null : args[0] === false;
    case 'AND_EXPR':
      return args.includes(false) ? false : args.includes(null) ? null : true;
    case 'OR_EXPR':
      return args.includes(true) ? true : args.includes(null) ? null : false;
    default:
      return undefined;
  }
}

/** The operator's name of an A_Expr (`=`, `<>`, `~~`, `BETWEEN`…). */
export function operatorOf(body: PgNode): string | undefined {
  if (!Array.isArray(body.name)) return undefined;
  const last = unwrapNode(body.name[body.name.length - 1]);
  return last?.[0] === 'String' && typeof last[1].sval === 'string' ? last[1].sval : undefined;
}

function listItems(node: unknown): readonly unknown[] | undefined {
  const list = unwrapNode(node);
  return list?.[0] === 'List' && Array.isArray(list[1].items) ? list[1].items : undefined;
}

function aExprOf(body: PgNode): ConstantValue | undefined {
  const op = operatorOf(body);
  if (op === undefined) return undefined;
  const left = body.lexpr === undefined ? undefined : constantValue(body.lexpr);
  switch (body.kind) {
    case 'AEXPR_OP': {
      const right = constantValue(body.rexpr);
      if (right === undefined) return undefined;
      if (body.lexpr === undefined)
        return op === '-' && typeof right === 'number' ? -right : undefined;
      if (left === undefined) return undefined;
      return operate(op, left, right);
    }
    case 'AEXPR_IN': {
      const items = listItems(body.rexpr)?.map(constantValue);
      if (left === undefined || items === undefined || items.includes(undefined)) return undefined;
      if (left === null) return null;
      const found = items.some((item) => compare(left, item as ConstantValue) === 0);
      return op === '<>' ? !found : found;
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN': {
      const [low, high] = (listItems(body.rexpr) ?? []).map(constantValue);
      if (left === undefined || low === undefined || high === undefined) return undefined;
      const lowCmp = compare(left, low);
      const highCmp = compare(left, high);
      if (lowCmp === undefined || highCmp === undefined) return null;
      const inside = lowCmp >= 0 && highCmp <= 0;
      return body.kind === 'AEXPR_BETWEEN' ? inside : !inside;
    }
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE': {
      const right = constantValue(body.rexpr);
      if (typeof left !== 'string' || typeof right !== 'string') return undefined;
      const matched = likePattern(right, body.kind === 'AEXPR_ILIKE').test(left);
      return op.startsWith('!') ? !matched : matched;
    }
    default:
      return undefined;
  }
}

function operate(op: string, left: ConstantValue, right: ConstantValue): ConstantValue | undefined {
  switch (op) {
    case '=':
    case '<>':
    case '!=':
    case '<':
    case '>':
    case '<=':
    case '>=': {
      const order = compare(left, right);
      if (order === undefined) return null;
      if (op === '=') return order === 0;
      if (op === '<>' || op === '!=') return order !== 0;
      if (op === '<') return order < 0;
      if (op === '>') return order > 0;
      return op === '<=' ? order <= 0 : order >= 0;
    }
    case '||':
      return left === null || right === null ? null : String(left) + String(right);
  }
  if (typeof left !== 'number' || typeof right !== 'number') return undefined;
  switch (op) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return right === 0 ? undefined : left / right;
    case '%':
      return right === 0 ? undefined : left % right;
    default:
      return undefined;
  }
}

/** -1, 0 or 1; undefined when either side is NULL (unknown) or they do not compare. */
function compare(left: ConstantValue, right: ConstantValue): number | undefined {
  if (left === null || right === null) return undefined;
  if (typeof left === 'number' || typeof right === 'number') {
    const a = Number(left);
    const b = Number(right);
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof left === 'boolean' && typeof right === 'boolean') {
    return left === right ? 0 : left ? 1 : -1; // false < true
  }
  if (typeof left === 'boolean' || typeof right === 'boolean') return undefined;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A LIKE pattern as a RegExp: `%` any run, `_` one character, `\` escapes. */
function likePattern(pattern: string, ignoreCase: boolean): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i] as string);
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '');
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}
