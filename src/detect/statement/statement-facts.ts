import type { ScanToken } from 'libpg-query';
import {
  isRecord,
  type PgNode,
  type RawStatement,
  unwrapNode,
} from '../../audit/classify/pg-parser.js';
import {
  isInternalRole,
  isPrivilegedPredefinedRole,
} from '../../control/roles/privileged-roles.js';
import { type InjectionShape, injectionShapes } from './injection-shapes.js';
import { functionName, qualifiedName, stringList, walkNodes } from './tree-names.js';

/** A COPY and where its data goes or comes from. */
export interface CopyFact {
  readonly direction: 'to' | 'from';
  /** `client`: STDOUT/STDIN; `file`: a file on the server; `program`: a shell command on the server. */
  readonly target: 'client' | 'file' | 'program';
  /** The table, or undefined for COPY (query). */
  readonly relation: string | undefined;
}

/** What the statement detectors need to know of one message's SQL, from one parse. */
export interface StatementFacts {
  readonly injection: ReadonlySet<InjectionShape>;
  /**
   * Whether a constant's value decided a finding. If not, these facts hold
   * for every text that differs only in its constants (literal-key.ts).
   */
  readonly byValue: boolean;
  readonly copies: readonly CopyFact[];
  /** Tables (schema.table) read with `SELECT *` or `SELECT t.*`. */
  readonly starTables: readonly string[];
  /** Role statements that grant power: `ALTER ROLE bob SUPERUSER`, `GRANT pg_read_server_files TO bob`. */
  readonly escalations: readonly string[];
  /** Functions made SECURITY DEFINER (CREATE or ALTER FUNCTION / PROCEDURE). */
  readonly securityDefiners: readonly string[];
  /** Reaches to the server's files, programs or network: `pg_read_file()`, `COPY FROM PROGRAM`… */
  readonly serverAccess: readonly string[];
}

export const NO_FACTS: StatementFacts = Object.freeze({
  injection: new Set<InjectionShape>(),
  byValue: false,
  copies: [],
  starTables: [],
  escalations: [],
  securityDefiners: [],
  serverAccess: [],
});

/** Functions that read the server's files or directories, or write large objects to them. */
const SERVER_FILE_FUNCTIONS = new Set([
  'lo_import',
  'lo_export',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_dir',
  'pg_stat_file',
  // adminpack
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'pg_file_sync',
]);

/**
 * Extensions and languages that reach beyond the database: the server's
 * files (adminpack, file_fdw), other servers (dblink, postgres_fdw), or
 * arbitrary code as the server's OS user (the untrusted `…u` languages).
 */
const SERVER_REACHING_EXTENSIONS = new Set([
  'adminpack',
  'file_fdw',
  'dblink',
  'postgres_fdw',
  'plpython3u',
  'plpythonu',
  'plpython2u',
  'plperlu',
  'pltclu',
  'plsh',
]);

/** DefElem names of the privileged attributes in CREATE/ALTER ROLE options. */
const PRIVILEGED_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['superuser', 'SUPERUSER'],
  ['bypassrls', 'BYPASSRLS'],
  ['isreplication', 'REPLICATION'],
]);

/** Everything the detectors look for in the parsed statements of one message. */
export function statementFacts(
  statements: readonly RawStatement[],
  tokens: readonly ScanToken[] | undefined,
): StatementFacts {
  const collector = new FactCollector();
  for (const statement of statements) collector.statement(statement);
  const { shapes, byValue } = injectionShapes(statements, tokens);
  return {
    injection: shapes,
    byValue,
    copies: collector.copies,
    starTables: [...new Set(collector.starTables)],
    escalations: collector.escalations,
    securityDefiners: collector.securityDefiners,
    serverAccess: [...new Set(collector.serverAccess)],
  };
}

class FactCollector {
  readonly copies: CopyFact[] = [];
  readonly starTables: string[] = [];
  readonly escalations: string[] = [];
  readonly securityDefiners: string[] = [];
  readonly serverAccess: string[] = [];
  /** WITH names: an unqualified reference to one is not a table. */
  private readonly cteNames = new Set<string>();

  statement(statement: RawStatement): void {
    this.node(statement.type, statement.body);
    walkNodes(statement.body, (type, body) => {
      this.node(type, body);
      return true;
    });
  }

  private node(type: string, body: PgNode): void {
    switch (type) {
      case 'SelectStmt':
        this.select(body);
        return;
      case 'FuncCall': {
        const name = functionName(body);
        if (name !== undefined && SERVER_FILE_FUNCTIONS.has(name))
          this.serverAccess.push(`${name}()`);
        return;
      }
      case 'CopyStmt':
        this.copy(body);
        return;
      case 'CreateFunctionStmt':
        if (securityDefiner(body.options))
          this.securityDefiners.push(stringList(body.funcname).join('.'));
        return;
      case 'AlterFunctionStmt':
        if (securityDefiner(body.actions)) {
          const func = isRecord(body.func) ? stringList(body.func.objname).join('.') : '';
          this.securityDefiners.push(func);
        }
        return;
      case 'CreateExtensionStmt':
        if (typeof body.extname === 'string' && SERVER_REACHING_EXTENSIONS.has(body.extname)) {
          this.serverAccess.push(`CREATE EXTENSION ${body.extname}`);
        }
        return;
      case 'CreatePLangStmt':
        if (typeof body.plname === 'string' && SERVER_REACHING_EXTENSIONS.has(body.plname)) {
          this.serverAccess.push(`CREATE LANGUAGE ${body.plname}`);
        }
        return;
      case 'CreateRoleStmt':
      case 'AlterRoleStmt':
        this.roleOptions(type, body);
        return;
      case 'GrantRoleStmt':
        this.grantRole(body);
        return;
      case 'AlterRoleSetStmt':
      case 'DropRoleStmt':
      case 'RenameStmt':
        this.internalRoleChange(type, body);
        return;
    }
  }

  private select(body: PgNode): void {
    if (body.op !== undefined && body.op !== 'SETOP_NONE') {
      // The arms of a UNION are bare SELECT bodies, which the walk does not hand to node().
      for (const arm of [body.larg, body.rarg]) if (isRecord(arm)) this.select(arm);
    }
    if (isRecord(body.withClause) && Array.isArray(body.withClause.ctes)) {
      for (const cte of body.withClause.ctes) {
        const node = unwrapNode(cte);
        if (typeof node?.[1].ctename === 'string') this.cteNames.add(node[1].ctename);
      }
    }
    if (!Array.isArray(body.targetList)) return;
    const qualifiers: string[][] = [];
    for (const target of body.targetList) {
      const res = unwrapNode(target);
      const ref = res?.[0] === 'ResTarget' ? unwrapNode(res[1].val) : undefined;
      if (ref?.[0] !== 'ColumnRef' || !Array.isArray(ref[1].fields)) continue;
      const fields = ref[1].fields;
      if (unwrapNode(fields[fields.length - 1])?.[0] !== 'A_Star') continue;
      qualifiers.push(stringList(fields));
    }
    if (qualifiers.length === 0) return;
    const relations = fromRelations(body.fromClause).filter(
      (r) => r.schema !== undefined || !this.cteNames.has(r.name),
    );
    for (const qualifier of qualifiers) {
      for (const relation of relations) {
        if (starCovers(qualifier, relation)) this.starTables.push(relation.qualified);
      }
    }
  }

  private copy(body: PgNode): void {
    const relation = isRecord(body.relation) ? qualifiedName(body.relation) : undefined;
    const direction = body.is_from === true ? 'from' : 'to';
    const target =
      body.is_program === true ? 'program' : typeof body.filename === 'string' ? 'file' : 'client';
    this.copies.push({ direction, target, relation });
    if (target === 'program' && direction === 'from') this.serverAccess.push('COPY FROM PROGRAM');
    if (target === 'file') this.serverAccess.push(`COPY ${direction.toUpperCase()} a server file`);
  }

  /** CREATE/ALTER ROLE with SUPERUSER, BYPASSRLS or REPLICATION, or into a privileged group. */
  private roleOptions(type: string, body: PgNode): void {
    const verb = type === 'CreateRoleStmt' ? 'CREATE ROLE' : 'ALTER ROLE';
    const role = type === 'CreateRoleStmt' ? String(body.role ?? '') : roleName(body.role);
    if (type === 'AlterRoleStmt' && isInternalRole(role)) {
      this.escalations.push(`ALTER ROLE ${role} (an internal role)`);
    }
    for (const option of definitions(body.options)) {
      const attribute = PRIVILEGED_OPTIONS.get(String(option.defname));
      if (attribute !== undefined && booleanArg(option.arg)) {
        this.escalations.push(`${verb} ${role} ${attribute}`);
      } else if (option.defname === 'addroleto') {
        // CREATE ROLE r IN ROLE g: r becomes a member of g.
        for (const group of roleList(option.arg)) {
          if (isPowerful(group)) this.escalations.push(`${verb} ${role} IN ROLE ${group}`);
        }
      } else if (
        option.defname === 'rolemembers' &&
        type === 'AlterRoleStmt' &&
        body.action !== -1
      ) {
        // ALTER GROUP g ADD USER m.
        if (isPowerful(role)) {
          for (const member of roleList(option.arg))
            this.escalations.push(`GRANT ${role} TO ${member}`);
        }
      }
    }
  }

  private grantRole(body: PgNode): void {
    if (body.is_grant !== true || !Array.isArray(body.granted_roles)) return;
    const grantees = Array.isArray(body.grantee_roles) ? body.grantee_roles.map(roleName) : [];
    for (const item of body.granted_roles) {
      const priv = unwrapNode(item);
      const granted = priv?.[0] === 'AccessPriv' ? priv[1].priv_name : undefined;
      if (typeof granted === 'string' && isPowerful(granted)) {
        this.escalations.push(`GRANT ${granted} TO ${grantees.join(', ')}`);
      }
    }
  }

  private internalRoleChange(type: string, body: PgNode): void {
    const names =
      type === 'DropRoleStmt'
        ? (Array.isArray(body.roles) ? body.roles : []).map(roleName)
        : type === 'RenameStmt'
          ? body.renameType === 'OBJECT_ROLE'
            ? [String(body.subname ?? '')]
            : []
          : [roleName(body.role)];
    for (const name of names) {
      if (isInternalRole(name))
        this.escalations.push(`${commandOf(type)} ${name} (an internal role)`);
    }
  }
}

function commandOf(type: string): string {
  return type === 'DropRoleStmt'
    ? 'DROP ROLE'
    : type === 'RenameStmt'
      ? 'ALTER ROLE RENAME'
      : 'ALTER ROLE SET';
}

/** Privileged predefined roles and pgwarden's internal roles. */
function isPowerful(role: string): boolean {
  return isPrivilegedPredefinedRole(role) || isInternalRole(role);
}

interface FromRelation {
  readonly schema: string | undefined;
  readonly name: string;
  readonly alias: string | undefined;
  readonly qualified: string;
}

/** The tables of a FROM list, through joins (not into subqueries: they have their own SELECT). */
function fromRelations(fromClause: unknown): FromRelation[] {
  const relations: FromRelation[] = [];
  const visit = (item: unknown): void => {
    const node = unwrapNode(item);
    if (node === undefined) return;
    const [type, body] = node;
    if (type === 'RangeVar') {
      const qualified = qualifiedName(body);
      if (qualified === undefined) return;
      relations.push({
        schema: typeof body.schemaname === 'string' ? body.schemaname : undefined,
        name: String(body.relname),
        alias:
          isRecord(body.alias) && typeof body.alias.aliasname === 'string'
            ? body.alias.aliasname
            : undefined,
        qualified,
      });
    } else if (type === 'JoinExpr') {
      visit(body.larg);
      visit(body.rarg);
    }
  };
  if (Array.isArray(fromClause)) for (const item of fromClause) visit(item);
  return relations;
}

/** Whether `*` (qualifier []), `t.*` or `s.t.*` takes the columns of `relation`. */
function starCovers(qualifier: readonly string[], relation: FromRelation): boolean {
  if (qualifier.length === 0) return true;
  if (qualifier.length === 1) {
    return relation.alias !== undefined
      ? relation.alias === qualifier[0]
      : relation.name === qualifier[0];
  }
  return qualifier.slice(-2).join('.') === relation.qualified;
}

function definitions(value: unknown): PgNode[] {
  if (!Array.isArray(value)) return [];
  const result: PgNode[] = [];
  for (const item of value) {
    const node = unwrapNode(item);
    if (node?.[0] === 'DefElem') result.push(node[1]);
  }
  return result;
}

function booleanArg(arg: unknown): boolean {
  const node = unwrapNode(arg);
  if (node?.[0] === 'Boolean') return node[1].boolval === true;
  if (node?.[0] === 'Integer') return node[1].ival !== 0 && node[1].ival !== undefined;
  return arg === undefined; // a bare option means true
}

/** SECURITY DEFINER among CREATE FUNCTION options or ALTER FUNCTION actions. */
function securityDefiner(options: unknown): boolean {
  return definitions(options).some(
    (option) => option.defname === 'security' && booleanArg(option.arg),
  );
}

/** A RoleSpec's name; CURRENT_USER and friends as written. */
function roleName(spec: unknown): string {
  const body = unwrapNode(spec)?.[1] ?? (isRecord(spec) ? spec : undefined);
  if (body === undefined) return '';
  if (typeof body.rolename === 'string') return body.rolename;
  const kind = typeof body.roletype === 'string' ? body.roletype.replace('ROLESPEC_', '') : '';
  return kind;
}

function roleList(arg: unknown): string[] {
  const list = unwrapNode(arg);
  const items = list?.[0] === 'List' && Array.isArray(list[1].items) ? list[1].items : [];
  return items.map(roleName);
}
