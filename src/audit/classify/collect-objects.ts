/**
 * The objects a statement touches, from a generic walk over the parse tree
 * (no visitor per node type): every RangeVar (relations, schema-qualified as
 * written), FuncCall names (kept for the FUNCTION class), RoleSpec names (kept
 * for the ROLE class), and the names a DDL or ROLE statement carries in its own
 * top-level fields (IndexStmt.idxname, DropStmt.objects, CreateRoleStmt.role, …).
 * References to common table expressions are not relations and are skipped,
 * following PostgreSQL's scoping of WITH. The walk is iterative, so a deeply
 * nested tree cannot overflow the stack.
 */

import type { AuditClass } from './audit-class.js';
import type { PgNode } from './pg-parser.js';
import { isRecord, unwrapNode } from './pg-parser.js';

type ObjectKind = 'relation' | 'function' | 'role' | 'name';

interface Found {
  readonly kind: ObjectKind;
  readonly name: string;
}

type Work =
  | { readonly found: Found }
  | { readonly value: unknown; readonly key: string; readonly scope: ReadonlySet<string> };

const NO_CTES: ReadonlySet<string> = new Set();

/** Top-level string fields naming the object of a DDL/ROLE statement. */
const STRING_NAME_FIELDS: ReadonlySet<string> = new Set([
  'idxname',
  'trigname',
  'schemaname',
  'dbname',
  'extname',
  'servername',
  'server_name',
  'local_schema',
  'fdwname',
  'policy_name',
  'rulename',
  'subname',
  'newname',
  'tablespacename',
  'pubname',
  'plname',
  'amname',
  'role',
]);

/** Top-level fields holding a qualified name as a list of String nodes. */
const LIST_NAME_FIELDS: ReadonlySet<string> = new Set([
  'funcname',
  'defnames',
  'typeName',
  'domainname',
  'conversion_name',
  'opclassname',
  'opfamilyname',
  'dictname',
  'cfgname',
  'collname',
]);

/** Top-level fields holding object nodes (List, String, ObjectWithArgs, TypeName, RangeVar). */
const OBJECT_FIELDS: ReadonlySet<string> = new Set(['objects', 'object', 'func']);

/** Objects named `[…table, name]`: the name of the object, then its table. */
const TABLE_SCOPED_TYPES: ReadonlySet<string> = new Set([
  'OBJECT_TRIGGER',
  'OBJECT_RULE',
  'OBJECT_POLICY',
  'OBJECT_TABCONSTRAINT',
]);

/** RenameStmt types whose subname/newname are columns or constraints, not objects. */
const PART_RENAMES: ReadonlySet<string> = new Set([
  'OBJECT_COLUMN',
  'OBJECT_ATTRIBUTE',
  'OBJECT_TABCONSTRAINT',
  'OBJECT_DOMCONSTRAINT',
]);

const SPECIAL_ROLES: Readonly<Record<string, string>> = {
  ROLESPEC_CURRENT_USER: 'CURRENT_USER',
  ROLESPEC_CURRENT_ROLE: 'CURRENT_ROLE',
  ROLESPEC_SESSION_USER: 'SESSION_USER',
  ROLESPEC_PUBLIC: 'PUBLIC',
};

/** `[String a, String b]` → `a.b`; undefined unless every item is a String node. */
function dottedName(list: unknown): string | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const parts: string[] = [];
  for (const item of list) {
    const node = unwrapNode(item);
    if (node === undefined || node[0] !== 'String' || typeof node[1].sval !== 'string') {
      return undefined;
    }
    parts.push(node[1].sval);
  }
  return parts.join('.');
}

function rangeVarName(body: PgNode): string {
  const parts: string[] = [];
  for (const key of ['catalogname', 'schemaname', 'relname']) {
    const part = body[key];
    if (typeof part === 'string' && part !== '') parts.push(part);
  }
  return parts.join('.');
}

function roleSpecName(body: PgNode): string | undefined {
  if (typeof body.rolename === 'string') return body.rolename;
  return typeof body.roletype === 'string' ? SPECIAL_ROLES[body.roletype] : undefined;
}

/** Names of an object node of DropStmt.objects, CommentStmt.object, …; undefined if unknown. */
function objectNodeNames(value: unknown, objectType: unknown): string[] | undefined {
  const node = unwrapNode(value);
  if (node === undefined) return undefined;
  const [type, body] = node;
  switch (type) {
    case 'String':
      return typeof body.sval === 'string' ? [body.sval] : undefined;
    case 'RangeVar':
      return [rangeVarName(body)];
    case 'ObjectWithArgs': {
      const name = dottedName(body.objname);
      return name === undefined ? undefined : [name];
    }
    case 'TypeName': {
      const name = dottedName(body.names);
      return name === undefined ? undefined : [name];
    }
    case 'List': {
      const items = body.items;
      const name = dottedName(items);
      if (name === undefined || !Array.isArray(items)) return undefined;
      if (
        typeof objectType === 'string' &&
        TABLE_SCOPED_TYPES.has(objectType) &&
        items.length > 1
      ) {
        const parts = name.split('.');
        const own = parts.pop() ?? name;
        return [own, parts.join('.')];
      }
      return [name];
    }
    default:
      return undefined;
  }
}

/** Work for one top-level field of the statement, or undefined to walk it generically. */
function topLevelWork(nodeType: string, body: PgNode, key: string): Work[] | undefined {
  const value = body[key];
  const name = (n: string): Work => ({ found: { kind: 'name', name: n } });
  if (STRING_NAME_FIELDS.has(key) && typeof value === 'string') {
    if (
      nodeType === 'RenameStmt' &&
      (key === 'subname' || key === 'newname') &&
      typeof body.renameType === 'string' &&
      PART_RENAMES.has(body.renameType)
    ) {
      return [];
    }
    return [name(value)];
  }
  if (LIST_NAME_FIELDS.has(key)) {
    const dotted = dottedName(value);
    return dotted === undefined ? undefined : [name(dotted)];
  }
  if (key === 'granted_roles' && Array.isArray(value)) {
    const work: Work[] = [];
    for (const item of value) {
      const priv = unwrapNode(item);
      if (priv !== undefined && typeof priv[1].priv_name === 'string') {
        work.push({ found: { kind: 'role', name: priv[1].priv_name } });
      }
    }
    return work;
  }
  if (OBJECT_FIELDS.has(key)) {
    const objectType = body.removeType ?? body.objtype ?? body.objectType;
    const items = Array.isArray(value) ? value : [value];
    return items.flatMap((item): Work[] => {
      const names = objectNodeNames(item, objectType);
      return names === undefined ? [{ value: item, key: '', scope: NO_CTES }] : names.map(name);
    });
  }
  return undefined;
}

/** The child work of an object node, in field order; a WITH clause goes first and scopes its names. */
function childWork(
  node: PgNode,
  scope: ReadonlySet<string>,
  top: { nodeType: string } | undefined,
): Work[] {
  const work: Work[] = [];
  let bodyScope = scope;
  const withClause = node.withClause;
  if (isRecord(withClause) && Array.isArray(withClause.ctes)) {
    const recursive = withClause.recursive === true;
    const names: string[] = [];
    for (const cte of withClause.ctes) {
      const name = unwrapNode(cte)?.[1].ctename;
      if (typeof name === 'string') names.push(name);
    }
    const all = new Set([...scope, ...names]);
    withClause.ctes.forEach((cte, index) => {
      // Without RECURSIVE, a CTE sees only the ones before it; its own name is the table.
      const visible = recursive ? all : new Set([...scope, ...names.slice(0, index)]);
      work.push({ value: cte, key: '', scope: visible });
    });
    bodyScope = all;
  }
  for (const key in node) {
    if (key === 'withClause' && bodyScope !== scope) continue;
    const special = top === undefined ? undefined : topLevelWork(top.nodeType, node, key);
    if (special !== undefined) work.push(...special);
    else work.push({ value: node[key], key, scope: bodyScope });
  }
  return work;
}

function pushReversed(stack: Work[], work: readonly Work[]): void {
  for (let i = work.length - 1; i >= 0; i--) {
    const item = work[i];
    if (item !== undefined) stack.push(item);
  }
}

function keeps(kind: ObjectKind, auditClass: AuditClass): boolean {
  if (kind === 'function') return auditClass === 'FUNCTION';
  if (kind === 'role') return auditClass === 'ROLE';
  return true;
}

/** The objects of one statement, deduplicated, in order of appearance. */
export function collectObjects(nodeType: string, body: PgNode, auditClass: AuditClass): string[] {
  const objects: string[] = [];
  const seen = new Set<string>();
  const add = (found: Found): void => {
    if (found.name === '' || !keeps(found.kind, auditClass) || seen.has(found.name)) return;
    seen.add(found.name);
    objects.push(found.name);
  };
  const stack: Work[] = [];
  pushReversed(stack, childWork(body, NO_CTES, { nodeType }));
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if ('found' in item) {
      add(item.found);
      continue;
    }
    const { value, key, scope } = item;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const element: unknown = value[i];
        if (typeof element === 'object' && element !== null) {
          stack.push({ value: element, key: '', scope });
        }
      }
      continue;
    }
    if (!isRecord(value)) continue;
    if (typeof value.relname === 'string') {
      // RangeVar (wrapped or in a typed field such as InsertStmt.relation)
      const isCteReference = value.schemaname === undefined && scope.has(value.relname);
      if (!isCteReference) add({ kind: 'relation', name: rangeVarName(value) });
      continue;
    }
    if (typeof value.roletype === 'string') {
      const role = roleSpecName(value);
      if (role !== undefined) add({ kind: 'role', name: role });
      continue;
    }
    if (key === 'FuncCall' || key === 'funccall') {
      const name = dottedName(value.funcname);
      if (name !== undefined) add({ kind: 'function', name });
    }
    pushReversed(stack, childWork(value, scope, undefined));
  }
  return objects;
}
