import { PgwardenError } from '../../errors.js';
import { quoteIdent } from '../sql/quote.js';
import {
  type AccessSpec,
  type GrantsSpec,
  type PolicySpec,
  PUBLIC_GRANTEE,
  type RoleSpec,
  type TemplateSpec,
} from './access-spec-schema.js';
import {
  type CatalogState,
  type LiveGrant,
  type LiveRelation,
  relationKey,
} from './catalog-state.js';
import { type AclKind, normalizePrivileges, PRIVILEGES } from './privilege-kinds.js';

/**
 * The spec expanded against the live catalog into plain, comparable targets:
 * every template becomes grants on the objects that exist now (plus default
 * privileges for the ones to come), every "owned" schema brings all its
 * objects under management. Nothing here talks to the server.
 */

/** Which grantees of a target the spec decides: all of them, or only some roles (templates). */
export type GranteeScope = 'all' | ReadonlySet<string>;

export interface AclTarget {
  /** For people and plan comments: `table "app"."invoices"`. */
  readonly label: string;
  readonly kind: AclKind | 'default';
  /** What follows ON in GRANT/REVOKE: `TABLE "app"."invoices"`; for defaults, the object class. */
  readonly onSql: string;
  /** Column targets: the column, quoted into GRANT SELECT ("col"). */
  readonly column?: string;
  /** Default-privilege targets: FOR ROLE owner IN SCHEMA schema. */
  readonly defaults?: { readonly owner: string; readonly schema: string };
  /** The owner holds its privileges implicitly and is never granted or revoked. */
  readonly owner: string;
  /**
   * The live owner when the plan changes the owner: ALTER … OWNER hands its
   * privileges (and the grants it made) to the new owner, so it is left alone too.
   */
  readonly formerOwner?: string;
  readonly scope: GranteeScope;
  /** Grantee → privileges the spec gives. */
  readonly desired: ReadonlyMap<string, ReadonlySet<string>>;
  readonly live: readonly LiveGrant[];
}

export interface DesiredRole extends RoleSpec {
  readonly name: string;
  /** Where the role came from, for messages: `roles.x` or `templates[0]`. */
  readonly origin: string;
}

export interface DesiredPolicy extends PolicySpec {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
}

export interface DesiredTable {
  readonly schema: string;
  readonly name: string;
  readonly rowSecurity?: { readonly enabled: boolean; readonly force: boolean };
  /** undefined: the table's policies are not managed. */
  readonly policies?: readonly DesiredPolicy[];
}

export interface DesiredOwner {
  readonly kind: 'SCHEMA' | 'TABLE' | 'SEQUENCE' | 'ROUTINE';
  readonly label: string;
  readonly onSql: string;
  readonly owner: string;
  readonly liveOwner: string;
}

export interface DesiredAccess {
  readonly database: string;
  readonly roles: readonly DesiredRole[];
  /** Schemas to create: name → owner. */
  readonly createSchemas: ReadonlyMap<string, string>;
  readonly owners: readonly DesiredOwner[];
  readonly targets: readonly AclTarget[];
  readonly tables: readonly DesiredTable[];
}

const TEMPLATE_TABLE_PRIVILEGES: Record<'read-only' | 'read-write', readonly string[]> = {
  'read-only': ['SELECT'],
  'read-write': ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
};
const TEMPLATE_SEQUENCE_PRIVILEGES: Record<'read-only' | 'read-write', readonly string[]> = {
  'read-only': ['SELECT'],
  'read-write': ['USAGE', 'SELECT'],
};
/** Relation kinds rows can be written to: tables, partitioned tables, views, foreign tables. */
const WRITABLE_RELKINDS = new Set(['r', 'p', 'v', 'f']);

export function specSchemas(spec: AccessSpec): string[] {
  const names = new Set(Object.keys(spec.schemas));
  for (const t of spec.templates) for (const s of t.schemas) names.add(s);
  return [...names];
}

class TargetSet {
  private readonly targets = new Map<
    string,
    AclTarget & { scope: 'all' | Set<string>; desired: Map<string, Set<string>> }
  >();

  /** Registers a target (once) and widens its scope. */
  manage(
    base: Omit<AclTarget, 'scope' | 'desired'>,
    scope: 'all' | string,
  ): AclTarget & { desired: Map<string, Set<string>> } {
    let target = this.targets.get(base.label);
    if (target === undefined) {
      target = { ...base, scope: scope === 'all' ? 'all' : new Set([scope]), desired: new Map() };
      this.targets.set(base.label, target);
    } else if (scope === 'all') {
      target.scope = 'all';
    } else if (target.scope !== 'all') {
      target.scope.add(scope);
    }
    return target;
  }

  give(
    target: { desired: Map<string, Set<string>> },
    grantee: string,
    privileges: readonly string[],
  ) {
    const set = target.desired.get(grantee) ?? new Set<string>();
    for (const p of privileges) set.add(p);
    target.desired.set(grantee, set);
  }

  all(): AclTarget[] {
    return [...this.targets.values()];
  }
}

function specError(path: string, message: string, hint?: string): PgwardenError {
  return new PgwardenError('PGW_ACCESS_SPEC_INVALID', `${path}: ${message}`, {
    hint: hint ?? 'fix the spec; docs/access-spec.md describes every key',
  });
}

function privilegesOf(kind: AclKind, names: readonly string[], path: string): readonly string[] {
  const result = normalizePrivileges(kind, names);
  if ('unknown' in result) {
    throw specError(
      path,
      `"${result.unknown}" is not a ${kind} privilege (${PRIVILEGES[kind].join(', ')}, or ALL)`,
    );
  }
  return result.privileges;
}

function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

function granteeOf(name: string): string {
  return name;
}

export function expandAccessSpec(
  spec: AccessSpec,
  live: CatalogState,
  /** `schema\0signature` → function oid, resolved by the server (to_regprocedure). */
  functionOids: ReadonlyMap<string, number>,
): DesiredAccess {
  const targets = new TargetSet();
  const roles = new Map<string, DesiredRole>();
  for (const [name, role] of Object.entries(spec.roles)) {
    roles.set(name, { ...role, name, origin: `roles.${name}` });
  }
  const createSchemas = new Map<string, string>();
  const owners: DesiredOwner[] = [];
  const tables = new Map<string, DesiredTable>();
  const schemaOwner = new Map<string, string>();

  // Schema owners first: templates and default privileges key on them.
  for (const schema of specSchemas(spec)) {
    const declared = spec.schemas[schema]?.owner;
    const appOwner = spec.templates.find(
      (t) => t.template === 'app-owner' && t.schemas.includes(schema),
    );
    if (declared !== undefined && appOwner !== undefined && declared !== appOwner.role) {
      throw specError(
        `schemas.${schema}.owner`,
        `says "${declared}", but the app-owner template makes "${appOwner.role}" the owner`,
      );
    }
    const liveSchema = live.schemas.get(schema);
    const wanted = declared ?? appOwner?.role;
    const owner = wanted ?? liveSchema?.owner ?? live.database.owner;
    schemaOwner.set(schema, owner);
    if (liveSchema === undefined) {
      createSchemas.set(schema, owner);
    } else if (wanted !== undefined && liveSchema.owner !== wanted) {
      owners.push({
        kind: 'SCHEMA',
        label: `schema ${quoteIdent(schema)}`,
        onSql: `SCHEMA ${quoteIdent(schema)}`,
        owner: wanted,
        liveOwner: liveSchema.owner,
      });
    }
  }

  const databaseTarget = (scope: 'all' | string) =>
    targets.manage(
      {
        label: `database ${quoteIdent(live.database.name)}`,
        kind: 'database',
        onSql: `DATABASE ${quoteIdent(live.database.name)}`,
        owner: live.database.owner,
        live: live.database.grants,
      },
      scope,
    );
  const schemaTarget = (schema: string, scope: 'all' | string) =>
    targets.manage(
      {
        label: `schema ${quoteIdent(schema)}`,
        kind: 'schema',
        onSql: `SCHEMA ${quoteIdent(schema)}`,
        ...ownership(
          schemaOwner.get(schema) ?? live.database.owner,
          live.schemas.get(schema)?.owner,
        ),
        live: live.schemas.get(schema)?.grants ?? [],
      },
      scope,
    );
  /** A relation's owner after the plan: its own `owner:`, or its table's for an owned sequence. */
  const ownerAfter = (rel: LiveRelation): string => {
    const tables = spec.schemas[rel.schema]?.tables;
    return (
      tables?.[rel.name]?.owner ??
      (rel.ownedByTable === null ? undefined : tables?.[rel.ownedByTable]?.owner) ??
      spec.schemas[rel.schema]?.sequences[rel.name]?.owner ??
      rel.owner
    );
  };
  const relationTarget = (rel: LiveRelation, scope: 'all' | string) =>
    targets.manage(
      {
        label: `${rel.kind} ${qualified(rel.schema, rel.name)}`,
        kind: rel.kind,
        onSql: `${rel.kind === 'sequence' ? 'SEQUENCE' : 'TABLE'} ${qualified(rel.schema, rel.name)}`,
        ...ownership(ownerAfter(rel), rel.owner),
        live: rel.grants,
      },
      scope,
    );
  const columnTarget = (rel: LiveRelation, column: string) =>
    targets.manage(
      {
        label: `column ${qualified(rel.schema, rel.name)}.${quoteIdent(column)}`,
        kind: 'column',
        onSql: `TABLE ${qualified(rel.schema, rel.name)}`,
        column,
        ...ownership(ownerAfter(rel), rel.owner),
        live: rel.columnGrants.get(column) ?? [],
      },
      'all',
    );
  const defaultTarget = (
    owner: string,
    schema: string,
    on: 'tables' | 'sequences' | 'functions',
    scope: 'all' | string,
  ) =>
    targets.manage(
      {
        label: `default privileges for ${on} that ${quoteIdent(owner)} creates in schema ${quoteIdent(schema)}`,
        kind: 'default',
        onSql: on.toUpperCase(),
        defaults: { owner, schema },
        owner,
        live:
          live.defaultAcls.find((d) => d.owner === owner && d.schema === schema && d.on === on)
            ?.grants ?? [],
      },
      scope,
    );
  const giveAll = (
    target: { desired: Map<string, Set<string>> },
    kind: AclKind,
    grants: GrantsSpec,
    path: string,
  ) => {
    for (const [grantee, names] of Object.entries(grants)) {
      targets.give(target, granteeOf(grantee), privilegesOf(kind, names, `${path}.${grantee}`));
    }
  };

  if (spec.grants !== undefined) giveAll(databaseTarget('all'), 'database', spec.grants, 'grants');

  for (const [schema, schemaSpec] of Object.entries(spec.schemas)) {
    const path = `schemas.${schema}`;
    if (schemaSpec.grants !== undefined) {
      giveAll(schemaTarget(schema, 'all'), 'schema', schemaSpec.grants, `${path}.grants`);
    }
    const inSchema = [...live.relations.values()].filter((r) => r.schema === schema);
    if (schemaSpec.owned) {
      schemaTarget(schema, 'all');
      for (const rel of inSchema) {
        relationTarget(rel, 'all');
        for (const column of rel.columnGrants.keys()) columnTarget(rel, column);
        if (rel.kind === 'table') {
          tables.set(relationKey(schema, rel.name), { schema, name: rel.name, policies: [] });
        }
      }
      for (const fn of live.functions.filter((f) => f.schema === schema)) {
        functionTarget(targets, fn, 'all');
      }
      for (const d of live.defaultAcls.filter((d) => d.schema === schema)) {
        defaultTarget(d.owner, schema, d.on, 'all');
      }
    }
    for (const [name, tableSpec] of Object.entries(schemaSpec.tables)) {
      const tpath = `${path}.tables.${name}`;
      const rel = live.relations.get(relationKey(schema, name));
      if (rel === undefined || rel.kind !== 'table') {
        throw specError(
          tpath,
          `table ${qualified(schema, name)} does not exist in database "${live.database.name}"`,
          'create it with your schema migrations first: a spec grants on tables, it does not define them',
        );
      }
      if (tableSpec.owner !== undefined && tableSpec.owner !== rel.owner) {
        owners.push({
          kind: 'TABLE',
          label: `table ${qualified(schema, name)}`,
          onSql: `TABLE ${qualified(schema, name)}`,
          owner: tableSpec.owner,
          liveOwner: rel.owner,
        });
      }
      if (tableSpec.grants !== undefined) {
        giveAll(relationTarget(rel, 'all'), 'table', tableSpec.grants, `${tpath}.grants`);
      }
      for (const [column, grants] of Object.entries(tableSpec.columns ?? {})) {
        if (!rel.columns.includes(column)) {
          throw specError(
            `${tpath}.columns.${column}`,
            `table ${qualified(schema, name)} has no column ${quoteIdent(column)}`,
          );
        }
        giveAll(columnTarget(rel, column), 'column', grants, `${tpath}.columns.${column}`);
      }
      const key = relationKey(schema, name);
      const previous = tables.get(key);
      const policies =
        tableSpec.policies === undefined
          ? previous?.policies
          : Object.entries(tableSpec.policies).map(([policy, p]) => ({
              ...p,
              schema,
              table: name,
              name: policy,
            }));
      tables.set(key, {
        schema,
        name,
        ...(tableSpec.rowSecurity === undefined ? {} : { rowSecurity: tableSpec.rowSecurity }),
        ...(policies === undefined ? {} : { policies }),
      });
    }
    for (const [name, seqSpec] of Object.entries(schemaSpec.sequences)) {
      const spath = `${path}.sequences.${name}`;
      const rel = live.relations.get(relationKey(schema, name));
      if (rel === undefined || rel.kind !== 'sequence') {
        throw specError(spath, `sequence ${qualified(schema, name)} does not exist`);
      }
      if (seqSpec.owner !== undefined && seqSpec.owner !== rel.owner) {
        owners.push({
          kind: 'SEQUENCE',
          label: `sequence ${qualified(schema, name)}`,
          onSql: `SEQUENCE ${qualified(schema, name)}`,
          owner: seqSpec.owner,
          liveOwner: rel.owner,
        });
      }
      if (seqSpec.grants !== undefined) {
        giveAll(relationTarget(rel, 'all'), 'sequence', seqSpec.grants, `${spath}.grants`);
      }
    }
    for (const [signature, fnSpec] of Object.entries(schemaSpec.functions)) {
      const fpath = `${path}.functions.${signature}`;
      const fn = live.functions.find(
        (f) => f.schema === schema && f.oid === functionOids.get(`${schema}\0${signature}`),
      );
      if (fn === undefined) {
        throw specError(
          fpath,
          `no function ${quoteIdent(schema)}.${signature} exists`,
          'name it by its argument types, e.g. tenant_of(text)',
        );
      }
      if (fnSpec.owner !== undefined && fnSpec.owner !== fn.owner) {
        owners.push({
          kind: 'ROUTINE',
          label: `function ${fn.sqlName}`,
          onSql: `ROUTINE ${fn.sqlName}`,
          owner: fnSpec.owner,
          liveOwner: fn.owner,
        });
      }
      if (fnSpec.grants !== undefined) {
        giveAll(
          functionTarget(targets, fn, 'all', fnSpec.owner),
          'function',
          fnSpec.grants,
          `${fpath}.grants`,
        );
      }
    }
    schemaSpec.defaultPrivileges.forEach((d, index) => {
      const kind: AclKind =
        d.on === 'tables' ? 'table' : d.on === 'sequences' ? 'sequence' : 'function';
      giveAll(
        defaultTarget(d.owner, schema, d.on, 'all'),
        kind,
        d.grants,
        `${path}.defaultPrivileges[${index}].grants`,
      );
    });
  }

  spec.templates.forEach((template, index) => {
    expandTemplate(template, `templates[${index}]`);
  });

  function expandTemplate(template: TemplateSpec, path: string) {
    const role = template.role;
    if (!roles.has(role)) {
      roles.set(role, {
        ...DEFAULT_ROLE,
        login: template.template === 'migration',
        memberOf: [],
        name: role,
        origin: path,
      });
    }
    targets.give(databaseTarget(role), role, ['CONNECT']);
    for (const schema of template.schemas) {
      const owner = template.owner ?? schemaOwner.get(schema) ?? live.database.owner;
      if (template.template === 'app-owner') {
        targets.give(databaseTarget(role), role, ['TEMPORARY']);
        continue; // owning the schema gives USAGE and CREATE
      }
      if (template.template === 'migration') {
        const current = roles.get(role);
        if (current !== undefined && !current.memberOf.includes(owner)) {
          roles.set(role, { ...current, memberOf: [...current.memberOf, owner] });
        }
        continue;
      }
      const shape = template.template;
      targets.give(schemaTarget(schema, role), role, ['USAGE']);
      for (const rel of live.relations.values()) {
        if (rel.schema !== schema) continue;
        if (rel.kind === 'sequence') {
          targets.give(relationTarget(rel, role), role, TEMPLATE_SEQUENCE_PRIVILEGES[shape]);
        } else {
          const privileges = WRITABLE_RELKINDS.has(rel.relkind)
            ? TEMPLATE_TABLE_PRIVILEGES[shape]
            : ['SELECT'];
          targets.give(relationTarget(rel, role), role, privileges);
        }
      }
      targets.give(
        defaultTarget(owner, schema, 'tables', role),
        role,
        TEMPLATE_TABLE_PRIVILEGES[shape],
      );
      targets.give(
        defaultTarget(owner, schema, 'sequences', role),
        role,
        TEMPLATE_SEQUENCE_PRIVILEGES[shape],
      );
    }
  }

  return {
    database: live.database.name,
    roles: [...roles.values()],
    createSchemas,
    owners,
    targets: targets.all(),
    tables: [...tables.values()],
  };
}

export const DEFAULT_ROLE: Omit<RoleSpec, 'memberOf'> = {
  login: false,
  superuser: false,
  createdb: false,
  createrole: false,
  inherit: true,
  replication: false,
  bypassrls: false,
  connectionLimit: -1,
};

/** `owner`, plus `formerOwner` when the plan changes it. */
function ownership(
  after: string,
  before: string | undefined,
): { owner: string; formerOwner?: string } {
  return before === undefined || before === after
    ? { owner: after }
    : { owner: after, formerOwner: before };
}

function functionTarget(
  targets: TargetSet,
  fn: CatalogState['functions'][number],
  scope: 'all' | string,
  ownerAfter?: string,
) {
  return targets.manage(
    {
      label: `function ${fn.sqlName}`,
      kind: 'function',
      onSql: `ROUTINE ${fn.sqlName}`,
      ...ownership(ownerAfter ?? fn.owner, fn.owner),
      live: fn.grants,
    },
    scope,
  );
}

export { PUBLIC_GRANTEE };
