import type pg from 'pg';

/**
 * What the live catalog says about the objects a spec can name, read in the
 * spec's database (docs 5.7 "Privileges", 5.8 "Row Security Policies";
 * aclexplode over acldefault makes an implicit default ACL explicit).
 */

export interface LiveRole {
  readonly name: string;
  readonly login: boolean;
  readonly superuser: boolean;
  readonly createdb: boolean;
  readonly createrole: boolean;
  readonly inherit: boolean;
  readonly replication: boolean;
  readonly bypassrls: boolean;
  readonly connectionLimit: number;
  /** `rolvaliduntil` as text in UTC, or null for "no expiry". */
  readonly validUntil: string | null;
  readonly comment: string | null;
}

export interface LiveMembership {
  readonly member: string;
  readonly role: string;
  readonly grantor: string;
}

/** One privilege held by a grantee; `PUBLIC` for grantee oid 0. */
export interface LiveGrant {
  readonly grantee: string;
  readonly grantor: string;
  readonly privilege: string;
  readonly grantable: boolean;
}

export type RelationKind = 'table' | 'sequence';

export interface LiveRelation {
  readonly schema: string;
  readonly name: string;
  /** pg_class.relkind: r, p, v, m, f (tables and views) or S (sequences). */
  readonly relkind: string;
  readonly kind: RelationKind;
  readonly owner: string;
  readonly grants: readonly LiveGrant[];
  readonly rowSecurity: boolean;
  readonly forceRowSecurity: boolean;
  /** Column name → its column-level grants; only columns that have any. */
  readonly columnGrants: ReadonlyMap<string, readonly LiveGrant[]>;
  readonly columns: readonly string[];
  /** A sequence owned by a table column (serial, identity): ALTER TABLE … OWNER moves it too. */
  readonly ownedByTable: string | null;
}

export interface LivePolicy {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly command: 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
  readonly permissive: boolean;
  /** Role names, sorted; `['PUBLIC']` for a policy on PUBLIC. */
  readonly roles: readonly string[];
  readonly using: string | null;
  readonly withCheck: string | null;
}

export interface LiveFunction {
  readonly oid: number;
  readonly schema: string;
  /** `"schema"."name"(identity args)`, quoted by the server: usable in GRANT … ON ROUTINE. */
  readonly sqlName: string;
  /** `name(identity args)`, for people. */
  readonly signature: string;
  readonly owner: string;
  readonly grants: readonly LiveGrant[];
}

export interface LiveDefaultAcl {
  readonly owner: string;
  readonly schema: string;
  readonly on: 'tables' | 'sequences' | 'functions';
  readonly grants: readonly LiveGrant[];
}

export interface LiveSchema {
  readonly name: string;
  readonly owner: string;
  readonly grants: readonly LiveGrant[];
}

export interface CatalogState {
  readonly serverVersionNum: number;
  readonly database: {
    readonly name: string;
    readonly owner: string;
    readonly grants: readonly LiveGrant[];
  };
  readonly roles: ReadonlyMap<string, LiveRole>;
  readonly memberships: readonly LiveMembership[];
  readonly schemas: ReadonlyMap<string, LiveSchema>;
  /** Keyed by `schema\0name`. */
  readonly relations: ReadonlyMap<string, LiveRelation>;
  readonly policies: readonly LivePolicy[];
  readonly functions: readonly LiveFunction[];
  readonly defaultAcls: readonly LiveDefaultAcl[];
}

export function relationKey(schema: string, name: string): string {
  return `${schema}\0${name}`;
}

/** Role name of an ACL item's grantee or grantor; oid 0 is PUBLIC. */
const ROLE_OF = (column: string) =>
  `CASE WHEN ${column} = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(${column})::text END`;

/** An ACL expression's items as a JSON array of LiveGrant, `[]` for none (one row per object). */
const grantsJson = (acl: string) =>
  `coalesce((SELECT json_agg(json_build_object('grantee', ${ROLE_OF('a.grantee')},
                      'grantor', ${ROLE_OF('a.grantor')}, 'privilege', a.privilege_type,
                      'grantable', a.is_grantable))
               FROM pg_catalog.aclexplode(${acl}) a), '[]')`;

/**
 * A timestamptz as text in UTC, microseconds included: the catalog's
 * `rolvaliduntil` and a spec's `validUntil` both go through it, so they
 * compare as strings. NULL for infinity.
 */
export const utcText = (expression: string) =>
  `pg_catalog.to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const GRANT_COLUMNS = `${ROLE_OF('a.grantee')} AS grantee, ${ROLE_OF('a.grantor')} AS grantor,
  a.privilege_type AS privilege, a.is_grantable AS grantable`;

interface GrantRow {
  grantee: string;
  grantor: string;
  privilege: string;
  grantable: boolean;
}

function grantOf(row: GrantRow): LiveGrant {
  return {
    grantee: row.grantee,
    grantor: row.grantor,
    privilege: row.privilege,
    grantable: row.grantable,
  };
}

const POLICY_COMMANDS: Record<string, LivePolicy['command']> = {
  '*': 'ALL',
  r: 'SELECT',
  a: 'INSERT',
  w: 'UPDATE',
  d: 'DELETE',
};

const DEFAULT_ACL_OBJECTS: Record<string, LiveDefaultAcl['on']> = {
  r: 'tables',
  S: 'sequences',
  f: 'functions',
};

/**
 * Reads the state of the current database for `schemas` (only those; the rest
 * of the database is not the spec's business). Run it in a transaction so all
 * reads see one snapshot.
 */
export async function readCatalogState(
  client: pg.ClientBase,
  schemas: readonly string[],
): Promise<CatalogState> {
  const version = await client.query<{ v: string }>(
    "SELECT current_setting('server_version_num') AS v",
  );
  const db = await client.query<{ name: string; owner: string } & Partial<GrantRow>>(
    `SELECT d.datname AS name, pg_catalog.pg_get_userbyid(d.datdba) AS owner, ${GRANT_COLUMNS}
       FROM pg_catalog.pg_database d,
            LATERAL pg_catalog.aclexplode(coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
      WHERE d.datname = pg_catalog.current_database()`,
  );
  const first = db.rows[0];
  if (first === undefined) throw new Error('the current database has no ACL rows');

  const roles = await client.query<{
    name: string;
    login: boolean;
    superuser: boolean;
    createdb: boolean;
    createrole: boolean;
    inherit: boolean;
    replication: boolean;
    bypassrls: boolean;
    connlimit: number;
    valid_until: string | null;
    comment: string | null;
  }>(
    `SELECT rolname AS name, rolcanlogin AS login, rolsuper AS superuser, rolcreatedb AS createdb,
            rolcreaterole AS createrole, rolinherit AS inherit, rolreplication AS replication,
            rolbypassrls AS bypassrls, rolconnlimit AS connlimit,
            CASE WHEN rolvaliduntil IS NULL THEN NULL
                 ELSE ${utcText('rolvaliduntil')} END
              AS valid_until,
            pg_catalog.shobj_description(oid, 'pg_authid') AS comment
       FROM pg_catalog.pg_roles`,
  );
  const members = await client.query<LiveMembership>(
    `SELECT pg_catalog.pg_get_userbyid(member) AS member, pg_catalog.pg_get_userbyid(roleid) AS role,
            pg_catalog.pg_get_userbyid(grantor) AS grantor
       FROM pg_catalog.pg_auth_members`,
  );
  const nsp = await client.query<{ name: string; owner: string } & Partial<GrantRow>>(
    `SELECT n.nspname AS name, pg_catalog.pg_get_userbyid(n.nspowner) AS owner, ${GRANT_COLUMNS}
       FROM pg_catalog.pg_namespace n,
            LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
      WHERE n.nspname = ANY($1)`,
    [schemas],
  );
  const rels = await client.query<{
    schema: string;
    name: string;
    relkind: string;
    owner: string;
    rls: boolean;
    force: boolean;
    columns: string[];
    grants: GrantRow[];
    owned_by: string | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
            (SELECT t.relname::text FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
              WHERE c.relkind = 'S' AND d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by,
            pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            c.relrowsecurity AS rls, c.relforcerowsecurity AS force,
            coalesce((SELECT array_agg(att.attname::text ORDER BY att.attnum) FROM pg_catalog.pg_attribute att
                       WHERE att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped), '{}') AS columns,
            ${grantsJson(`coalesce(c.relacl,
                 pg_catalog.acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))`)} AS grants
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')`,
    [schemas],
  );
  const cols = await client.query<{ schema: string; table: string; column: string } & GrantRow>(
    `SELECT n.nspname AS schema, c.relname AS table, att.attname AS column, ${GRANT_COLUMNS}
       FROM pg_catalog.pg_attribute att
       JOIN pg_catalog.pg_class c ON c.oid = att.attrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
            LATERAL pg_catalog.aclexplode(att.attacl) a
      WHERE n.nspname = ANY($1) AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL`,
    [schemas],
  );
  const pols = await client.query<{
    schema: string;
    table: string;
    name: string;
    cmd: string;
    permissive: boolean;
    roles: string[];
    using: string | null;
    with_check: string | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, p.polcmd::text AS cmd,
            p.polpermissive AS permissive,
            ARRAY(SELECT ${ROLE_OF('r')} FROM unnest(p.polroles) r ORDER BY 1) AS roles,
            pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
            pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
       FROM pg_catalog.pg_policy p
       JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1)`,
    [schemas],
  );
  const funcs = await client.query<{
    oid: number;
    schema: string;
    sql_name: string;
    signature: string;
    owner: string;
    grants: GrantRow[];
  }>(
    `SELECT p.oid::int8 AS oid, n.nspname AS schema,
            pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)
              || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS sql_name,
            p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS signature,
            pg_catalog.pg_get_userbyid(p.proowner) AS owner,
            ${grantsJson("coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))")} AS grants
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1) AND p.prokind IN ('f', 'p')`,
    [schemas],
  );
  const defaults = await client.query<
    { owner: string; schema: string; objtype: string } & GrantRow
  >(
    `SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS owner, n.nspname AS schema,
            d.defaclobjtype::text AS objtype, ${GRANT_COLUMNS}
       FROM pg_catalog.pg_default_acl d
       JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace,
            LATERAL pg_catalog.aclexplode(d.defaclacl) a
      WHERE n.nspname = ANY($1) AND d.defaclobjtype IN ('r', 'S', 'f')`,
    [schemas],
  );

  const schemaMap = new Map<string, LiveSchema>();
  for (const row of nsp.rows) {
    const entry = schemaMap.get(row.name) ?? { name: row.name, owner: row.owner, grants: [] };
    (entry.grants as LiveGrant[]).push(grantOf(row as GrantRow));
    schemaMap.set(row.name, entry);
  }
  const columnGrants = new Map<string, Map<string, LiveGrant[]>>();
  for (const row of cols.rows) {
    const key = relationKey(row.schema, row.table);
    const byColumn = columnGrants.get(key) ?? new Map<string, LiveGrant[]>();
    const list = byColumn.get(row.column) ?? [];
    list.push(grantOf(row));
    byColumn.set(row.column, list);
    columnGrants.set(key, byColumn);
  }
  const relations = new Map<string, LiveRelation>();
  for (const row of rels.rows) {
    const key = relationKey(row.schema, row.name);
    relations.set(key, {
      schema: row.schema,
      name: row.name,
      relkind: row.relkind,
      kind: row.relkind === 'S' ? 'sequence' : 'table',
      owner: row.owner,
      grants: row.grants.map(grantOf),
      rowSecurity: row.rls,
      forceRowSecurity: row.force,
      columnGrants: columnGrants.get(key) ?? new Map(),
      columns: row.columns,
      ownedByTable: row.owned_by,
    });
  }
  const defaultMap = new Map<string, LiveDefaultAcl>();
  for (const row of defaults.rows) {
    const on = DEFAULT_ACL_OBJECTS[row.objtype];
    if (on === undefined) continue;
    const key = `${row.owner}\0${row.schema}\0${on}`;
    const entry = defaultMap.get(key) ?? { owner: row.owner, schema: row.schema, on, grants: [] };
    (entry.grants as LiveGrant[]).push(grantOf(row));
    defaultMap.set(key, entry);
  }

  return {
    serverVersionNum: Number(version.rows[0]?.v ?? 0),
    database: {
      name: first.name,
      owner: first.owner,
      grants: db.rows.map((row) => grantOf(row as GrantRow)),
    },
    roles: new Map(
      roles.rows.map((row) => [
        row.name,
        {
          name: row.name,
          login: row.login,
          superuser: row.superuser,
          createdb: row.createdb,
          createrole: row.createrole,
          inherit: row.inherit,
          replication: row.replication,
          bypassrls: row.bypassrls,
          connectionLimit: row.connlimit,
          validUntil: row.valid_until,
          comment: row.comment,
        },
      ]),
    ),
    memberships: members.rows,
    schemas: schemaMap,
    relations,
    policies: pols.rows.map((row) => ({
      schema: row.schema,
      table: row.table,
      name: row.name,
      command: POLICY_COMMANDS[row.cmd] ?? 'ALL',
      permissive: row.permissive,
      roles: row.roles,
      using: row.using,
      withCheck: row.with_check,
    })),
    functions: funcs.rows.map((row) => ({
      oid: Number(row.oid),
      schema: row.schema,
      sqlName: row.sql_name,
      signature: row.signature,
      owner: row.owner,
      grants: row.grants.map(grantOf),
    })),
    defaultAcls: [...defaultMap.values()],
  };
}
