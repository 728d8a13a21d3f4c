import { isRecord, type PgNode, unwrapNode } from '../../audit/classify/pg-parser.js';

/**
 * Small readers of libpg-query's JSON parse tree shared by the statement
 * detectors: names of functions and relations, and a generic walk.
 */

/** The `sval`s of a list of `String` nodes (`funcname`, `names`, `fields`). */
export function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const names: string[] = [];
  for (const item of value) {
    const node = unwrapNode(item);
    if (node?.[0] === 'String' && typeof node[1].sval === 'string') names.push(node[1].sval);
  }
  return names;
}

/** A FuncCall's name without its schema (`pg_catalog.pg_sleep` → `pg_sleep`). */
export function functionName(body: PgNode): string | undefined {
  const names = stringList(body.funcname);
  return names[names.length - 1];
}

/** A RangeVar as `schema.table`, unqualified names in `public` (the gateway cannot see search_path). */
export function qualifiedName(rangeVar: PgNode): string | undefined {
  if (typeof rangeVar.relname !== 'string') return undefined;
  const schema = typeof rangeVar.schemaname === 'string' ? rangeVar.schemaname : 'public';
  return `${schema}.${rangeVar.relname}`;
}

/** Schemas of the system catalogs. */
const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

/** Whether a RangeVar reads the system catalogs (`pg_catalog.*`, `information_schema.*`, an unqualified `pg_*`). */
export function isCatalogRelation(rangeVar: PgNode): boolean {
  const schema = rangeVar.schemaname;
  if (typeof schema === 'string') return CATALOG_SCHEMAS.has(schema);
  return typeof rangeVar.relname === 'string' && rangeVar.relname.startsWith('pg_');
}

/** Catalogs that hold roles, password hashes or server settings: what a prober is after. */
const SECRET_CATALOGS = new Set([
  'pg_shadow',
  'pg_authid',
  'pg_user',
  'pg_roles',
  'pg_auth_members',
  'pg_database',
  'pg_settings',
  'pg_file_settings',
  'pg_hba_file_rules',
  'pg_ident_file_mappings',
]);

export function isSecretCatalog(rangeVar: PgNode): boolean {
  if (rangeVar.schemaname === 'information_schema') return true;
  if (rangeVar.schemaname !== undefined && rangeVar.schemaname !== 'pg_catalog') return false;
  return typeof rangeVar.relname === 'string' && SECRET_CATALOGS.has(rangeVar.relname);
}

/**
 * Functions whose text reveals the server (its version, database, schema,
 * address): what an injected probe asks for. Cast to a number, their value
 * shows up in the error message.
 */
export const SERVER_INFO_FUNCTIONS = new Set([
  'version',
  'current_database',
  'current_schema',
  'current_schemas',
  'inet_server_addr',
]);

/**
 * Settings and other server facts: probed for in a UNION, but applications
 * read them too (`current_setting('app.tenant')::int` in row filters,
 * `current_setting('server_version_num')::int` at start), so they count
 * nowhere else.
 */
const SETTING_FUNCTIONS = new Set([
  'current_setting',
  'inet_server_port',
  'pg_postmaster_start_time',
]);

/** SQLValueFunction ops naming the session's roles and database (CURRENT_USER, …). */
export const USER_VALUE_FUNCTIONS = new Set([
  'SVFOP_CURRENT_USER',
  'SVFOP_SESSION_USER',
  'SVFOP_USER',
  'SVFOP_CURRENT_ROLE',
  'SVFOP_CURRENT_CATALOG',
  'SVFOP_CURRENT_SCHEMA',
]);

/**
 * Calls `visit(type, body)` for every node under `value` (wrapped nodes
 * `{ Type: body }` only; bare bodies under fields such as `larg` are walked
 * through). `visit` returning false skips that node's children.
 */
export function walkNodes(
  value: unknown,
  visit: (type: string, body: PgNode) => boolean | undefined,
): void {
  if (Array.isArray(value)) {
    for (const item of value) walkNodes(item, visit);
    return;
  }
  if (!isRecord(value)) return;
  for (const key in value) {
    const child = value[key];
    if (typeof child !== 'object' || child === null) continue;
    if (isNodeType(key) && isRecord(child)) {
      if (visit(key, child) === false) continue;
    }
    walkNodes(child, visit);
  }
}

/** Node types are PascalCase (`SelectStmt`, `A_Expr`); fields are lower camel or snake case. */
export function isNodeType(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 0x41 && first <= 0x5a;
}

/** What a subtree reads: catalogs, user relations, server information. */
export interface Reads {
  catalog: boolean;
  secretCatalog: boolean;
  user: boolean;
  /** version(), current_database(), … */
  serverInfo: boolean;
  /** current_setting(), … */
  settings: boolean;
  /** CURRENT_USER, SESSION_USER, … */
  userInfo: boolean;
}

export function readsOf(value: unknown): Reads {
  const reads: Reads = {
    catalog: false,
    secretCatalog: false,
    user: false,
    serverInfo: false,
    settings: false,
    userInfo: false,
  };
  walkNodes(value, (type, body) => {
    if (type === 'RangeVar') {
      if (isCatalogRelation(body)) reads.catalog = true;
      else reads.user = true;
      if (isSecretCatalog(body)) reads.secretCatalog = true;
    } else if (type === 'FuncCall') {
      const name = functionName(body);
      if (name !== undefined && SERVER_INFO_FUNCTIONS.has(name)) reads.serverInfo = true;
      if (name !== undefined && SETTING_FUNCTIONS.has(name)) reads.settings = true;
    } else if (type === 'SQLValueFunction') {
      if (typeof body.op === 'string' && USER_VALUE_FUNCTIONS.has(body.op)) reads.userInfo = true;
    }
    return true;
  });
  return reads;
}
