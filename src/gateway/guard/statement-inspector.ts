import {
  byteToCharIndex,
  isRecord,
  type PgNode,
  parseStatements,
  unwrapNode,
} from '../../audit/classify/pg-parser.js';
import {
  INTERNAL_ROLES,
  PRIVILEGED_PREDEFINED_ROLES,
} from '../../control/roles/privileged-roles.js';
import { Findings, inside, type Site } from './guard-findings.js';
import type { GuardContext, GuardPolicy } from './guard-policy.js';
import { ALLOW_LIST_HINT, asciiText } from './guard-refusal.js';
import { parsePlpgsql } from './plpgsql-parser.js';
import { checkRoleStatement, roleStatementKind } from './role-rules.js';

/** DO in EXECUTE in a function body…: deeper than this is refused rather than followed. */
export const MAX_NESTING = 8;

/**
 * Inspects the SQL text of one Query or Parse with PostgreSQL's parser: the
 * role statements (role-rules.ts), and the statements inside DO blocks and
 * CREATE FUNCTION / PROCEDURE bodies: PL/pgSQL static SQL, EXECUTE of a
 * constant string, and LANGUAGE sql bodies (string or BEGIN ATOMIC).
 *
 * What cannot be seen is refused only when it names a privileged or internal
 * role or a privileged attribute (see namesPrivilege): text PostgreSQL's
 * parser here rejects (the server, an older major version, may still accept
 * it: `system_user` is a role name on 15 and a keyword on 16+), EXECUTE of
 * a string built at run time, and bodies in other languages. Otherwise it is
 * forwarded: the server rejects what does not parse, and the rest is the
 * documented gap of dynamic SQL (docs/guardrails.md).
 */
export function inspectSql(sql: string, context: GuardContext): Findings {
  const findings = new Findings();
  new Inspector(context, findings).text(sql, '', 0, 'the statement');
  return findings;
}

class Inspector {
  constructor(
    private readonly context: GuardContext,
    private readonly findings: Findings,
  ) {}

  /** A text of statements; `what` names it in a refusal if it cannot be parsed. */
  text(sql: string, within: string, depth: number, what: string): void {
    if (depth > MAX_NESTING) {
      this.findings.refuse({
        reason: 'too-deep',
        sqlState: '42501',
        message: `pgwarden: SQL nested more than ${MAX_NESTING} levels deep (DO, EXECUTE, function bodies) is refused: the guard does not follow it further`,
        hint: 'flatten the statement',
        statement: 'DO',
        within,
      });
      return;
    }
    const statements = parseStatements(sql);
    if (statements === undefined) {
      this.unchecked(sql, `${what} cannot be parsed by the gateway and`, {
        statement: 'UNPARSABLE',
        within,
      });
      return;
    }
    const toChar = byteToCharIndex(sql);
    for (const statement of statements) {
      const text = sql.slice(
        toChar(statement.byteStart),
        statement.byteEnd === undefined ? sql.length : toChar(statement.byteEnd),
      );
      this.statement(statement.type, statement.body, text, within, depth);
    }
  }

  /** One parsed statement; `text` is its source when known. */
  private statement(
    type: string,
    body: PgNode,
    text: string | undefined,
    within: string,
    depth: number,
  ): void {
    const kind = roleStatementKind(type, body);
    if (kind !== undefined) {
      checkRoleStatement(type, body, this.context, this.findings, { statement: kind, within });
    } else if (type === 'DoStmt') {
      this.doBlock(body, { statement: 'DO', within }, depth);
    } else if (type === 'CreateFunctionStmt') {
      const statement = body.is_procedure === true ? 'CREATE PROCEDURE' : 'CREATE FUNCTION';
      this.routine(body, text, { statement, within }, depth);
    }
  }

  /** DO [LANGUAGE l] 'code' (docs: DO); plpgsql when no language is given. */
  private doBlock(body: PgNode, site: Site, depth: number): void {
    const args = defElems(body.args);
    const language = stringValue(args.get('language')) ?? 'plpgsql';
    const code = stringValue(args.get('as')) ?? '';
    if (language === 'plpgsql') {
      this.plpgsql(`DO ${dollarQuote(code)}`, code, site, depth);
    } else {
      this.unchecked(code, `a DO block in LANGUAGE ${language} cannot be checked and`, site);
    }
  }

  /** CREATE [OR REPLACE] FUNCTION | PROCEDURE: the body, by language. */
  private routine(body: PgNode, text: string | undefined, site: Site, depth: number): void {
    const options = defElems(body.options);
    const language = (stringValue(options.get('language')) ?? 'sql').toLowerCase();
    if (body.sql_body !== undefined) {
      // BEGIN ATOMIC … END: already parsed, as lists of statements.
      for (const node of statementNodes(body.sql_body)) {
        const [type, inner] = node;
        this.statement(type, inner, undefined, inside(site), depth + 1);
      }
      return;
    }
    const as = options.get('as');
    const items =
      isRecord(as) && isRecord(as.List) && Array.isArray(as.List.items) ? as.List.items : [];
    const code = stringValue(items[0]) ?? '';
    if (language === 'sql') {
      this.text(code, inside(site), depth + 1, `the body of ${site.statement}`);
    } else if (language === 'plpgsql') {
      // The whole statement: parameter names and the return type shape the compile.
      this.plpgsql(text ?? '', code, site, depth);
    } else if (language !== 'c' && language !== 'internal') {
      // C and internal functions need a superuser to create; other languages are opaque.
      this.unchecked(code, `a LANGUAGE ${language} body cannot be checked and`, site);
    }
  }

  /** A DO block or CREATE FUNCTION in PL/pgSQL, compiled with PL/pgSQL's own parser. */
  private plpgsql(source: string, code: string, site: Site, depth: number): void {
    const tree = source === '' ? undefined : parsePlpgsql(source);
    const compiled =
      isRecord(tree) && Array.isArray(tree.plpgsql_funcs) && tree.plpgsql_funcs.length > 0;
    if (!compiled) {
      this.unchecked(
        code,
        `the PL/pgSQL body of ${site.statement} cannot be compiled by the gateway and`,
        site,
      );
      return;
    }
    walk(tree, (key, node) => {
      // Static SQL: execsql (GRANT, ALTER ROLE…), call (CALL and DO).
      if (key === 'PLpgSQL_stmt_execsql' || key === 'PLpgSQL_stmt_call') {
        const query = exprQuery(key === 'PLpgSQL_stmt_call' ? node.expr : node.sqlstmt);
        if (query !== undefined) {
          this.text(query, inside(site), depth + 1, `a statement in ${site.statement}`);
        }
      } else if (key === 'PLpgSQL_stmt_dynexecute' || key === 'PLpgSQL_stmt_dynfors') {
        this.dynamic(exprQuery(node.query), site, depth);
      } else if (node.dynquery !== undefined) {
        // RETURN QUERY EXECUTE, OPEN … FOR EXECUTE.
        this.dynamic(exprQuery(node.dynquery), site, depth);
      }
    });
  }

  /** EXECUTE expr: a constant string is inspected as SQL; anything else cannot be seen. */
  private dynamic(expression: string | undefined, site: Site, depth: number): void {
    if (expression === undefined) return;
    const constant = constantString(expression);
    if (constant !== undefined) {
      this.text(constant, inside(site, 'EXECUTE'), depth + 1, 'the string EXECUTE runs');
    } else {
      this.unchecked(expression, 'EXECUTE of a string built at run time cannot be checked and', {
        statement: 'EXECUTE',
        within: inside(site),
      });
    }
  }

  /** Text the guard cannot see into: refused if it names a privileged or internal role or attribute. */
  private unchecked(text: string, what: string, site: Site): void {
    const word = namesPrivilege(text, this.context.policy);
    if (word === undefined) return;
    this.findings.refuse({
      reason: 'unchecked-sql',
      sqlState: '42501',
      message: `pgwarden: ${what} names ${asciiText(word)}, so it is refused`,
      hint:
        site.statement === 'UNPARSABLE'
          ? 'correct the syntax error; see docs/guardrails.md'
          : `write the statement as static SQL so the gateway can check it; ${ALLOW_LIST_HINT}`,
      ...site,
    });
  }
}

const ATTRIBUTE_WORDS = ['superuser', 'bypassrls', 'replication', 'createuser'];
const wordLists = new WeakMap<GuardPolicy, RegExp>();

/**
 * The first privileged or internal role, allow-listed role, or privileged
 * attribute keyword that `text` names as a whole word (case-insensitive), or
 * undefined. For text the guard cannot parse: a dynamic statement that
 * grants one of these must name it somewhere, unless it builds even the name
 * at run time (the residual gap).
 */
export function namesPrivilege(text: string, policy: GuardPolicy): string | undefined {
  let pattern = wordLists.get(policy);
  if (pattern === undefined) {
    const words = [
      ...PRIVILEGED_PREDEFINED_ROLES,
      ...INTERNAL_ROLES,
      ...policy.privilegedRoles,
      ...ATTRIBUTE_WORDS,
    ].map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    pattern = new RegExp(`(?<![\\w$])(?:${words.join('|')})(?![\\w$])`, 'i');
    wordLists.set(policy, pattern);
  }
  return pattern.exec(text)?.[0];
}

/** The value of a constant string expression ('a', 'a' || 'b', 'a'::text), else undefined. */
export function constantString(expression: string): string | undefined {
  const statements = parseStatements(`SELECT ${expression}`);
  const select = statements?.length === 1 ? statements[0] : undefined;
  if (select?.type !== 'SelectStmt' || !Array.isArray(select.body.targetList)) return undefined;
  if (select.body.targetList.length !== 1 || select.body.fromClause !== undefined) return undefined;
  const target = unwrapNode(select.body.targetList[0]);
  return target?.[0] === 'ResTarget' ? fold(target[1].val) : undefined;
}

function fold(node: unknown): string | undefined {
  const unwrapped = unwrapNode(node);
  if (unwrapped === undefined) return undefined;
  const [type, body] = unwrapped;
  if (type === 'A_Const') {
    if (!isRecord(body.sval)) return undefined;
    return typeof body.sval.sval === 'string' ? body.sval.sval : '';
  }
  if (type === 'TypeCast') return fold(body.arg);
  if (type === 'A_Expr' && body.kind === 'AEXPR_OP' && operatorName(body.name) === '||') {
    const left = fold(body.lexpr);
    const right = left === undefined ? undefined : fold(body.rexpr);
    return left === undefined || right === undefined ? undefined : left + right;
  }
  return undefined;
}

function operatorName(name: unknown): string | undefined {
  if (!Array.isArray(name) || name.length !== 1) return undefined;
  const part = unwrapNode(name[0]);
  return part?.[0] === 'String' && typeof part[1].sval === 'string' ? part[1].sval : undefined;
}

/** `{ PLpgSQL_expr: { query } }` → query. */
function exprQuery(expr: unknown): string | undefined {
  if (!isRecord(expr) || !isRecord(expr.PLpgSQL_expr)) return undefined;
  const query = expr.PLpgSQL_expr.query;
  return typeof query === 'string' ? query : undefined;
}

/** Calls `visit` for every `{ key: object }` in a JSON tree. */
function walk(value: unknown, visit: (key: string, node: PgNode) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
    return;
  }
  if (!isRecord(value)) return;
  for (const key in value) {
    const child = value[key];
    if (isRecord(child)) visit(key, child);
    walk(child, visit);
  }
}

/** The statements of a BEGIN ATOMIC body: lists of lists of nodes. */
function statementNodes(value: unknown): (readonly [string, PgNode])[] {
  const found: (readonly [string, PgNode])[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const unwrapped = unwrapNode(node);
    if (unwrapped === undefined) return;
    if (unwrapped[0] === 'List') visit(unwrapped[1].items);
    else found.push(unwrapped);
  };
  visit(value);
  return found;
}

/** DefElem lists as a map from defname to arg. */
function defElems(value: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(value)) return map;
  for (const item of value) {
    const def = isRecord(item) && isRecord(item.DefElem) ? item.DefElem : undefined;
    if (typeof def?.defname === 'string') map.set(def.defname, def.arg);
  }
  return map;
}

/** `{ String: { sval } }` → sval ('' when the parser left an empty string out). */
function stringValue(node: unknown): string | undefined {
  if (!isRecord(node) || !isRecord(node.String)) return undefined;
  return typeof node.String.sval === 'string' ? node.String.sval : '';
}

/** A dollar-quoted string constant (docs 4.1.2.4) with a tag the text does not contain. */
export function dollarQuote(text: string): string {
  let tag = '$pgwarden$';
  // The first occurrence of the tag after the opening one must be the closing one.
  for (let i = 1; `${text}${tag}`.indexOf(tag) !== text.length; i++) tag = `$pgwarden${i}$`;
  return `${tag}${text}${tag}`;
}
