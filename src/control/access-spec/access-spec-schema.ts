import { z } from 'zod';

/**
 * The declarative access spec (issue 6, item 1): one file per database, in
 * YAML. Every key is optional except `database`; what a key leaves out,
 * pgwarden leaves alone (docs/access-spec.md, "What a spec manages").
 */

/** PostgreSQL cuts names at NAMEDATALEN - 1 = 63 bytes (docs 4.1.1); a cut name would drift forever. */
const MAX_NAME_BYTES = 63;

export const Name = z
  .string()
  .min(1, 'a name may not be empty')
  .refine((name) => Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES, {
    message: `a name may have at most ${MAX_NAME_BYTES} bytes (PostgreSQL would cut it)`,
  })
  .refine((name) => !name.includes('\0'), { message: 'a name may not contain a NUL character' });

/** `PUBLIC` is the pseudo-role every role belongs to; a real role cannot be named "public". */
export const PUBLIC_GRANTEE = 'PUBLIC';

const Privilege = z
  .string()
  .min(1)
  .transform((p) =>
    p
      .trim()
      .toUpperCase()
      .replace(/^TEMP$/, 'TEMPORARY'),
  );

/** `{ role: [PRIVILEGE, …] }`: what each role may do; `ALL` means every privilege of the kind. */
const Grants = z.record(
  Name,
  z.array(Privilege).min(1, 'list at least one privilege, or leave the role out'),
);

const RoleSchema = z.strictObject({
  login: z.boolean().default(false),
  superuser: z.boolean().default(false),
  createdb: z.boolean().default(false),
  createrole: z.boolean().default(false),
  inherit: z.boolean().default(true),
  replication: z.boolean().default(false),
  bypassrls: z.boolean().default(false),
  connectionLimit: z.number().int().min(-1).default(-1),
  /** Managed only when given: `pgwarden role password set` sets it from the policy otherwise. */
  validUntil: z
    .union([z.string().min(1), z.date()])
    .transform((v) => (v instanceof Date ? v.toISOString() : v))
    .optional(),
  /** Every role this one is a member of; memberships in other roles are revoked. */
  memberOf: z.array(Name).default([]),
  comment: z.string().optional(),
});

const PolicySchema = z.strictObject({
  command: z
    .string()
    .transform((c) => c.toUpperCase())
    .pipe(z.enum(['ALL', 'SELECT', 'INSERT', 'UPDATE', 'DELETE']))
    .default('ALL'),
  type: z
    .string()
    .transform((c) => c.toLowerCase())
    .pipe(z.enum(['permissive', 'restrictive']))
    .default('permissive'),
  /** Roles the policy applies to; none means PUBLIC. */
  roles: z.array(Name).default([]),
  using: z.string().min(1).optional(),
  withCheck: z.string().min(1).optional(),
});

const TableSchema = z.strictObject({
  owner: Name.optional(),
  grants: Grants.optional(),
  /** Column privileges (SELECT, INSERT, UPDATE, REFERENCES): `{ column: { role: [...] } }`. */
  columns: z.record(Name, Grants).optional(),
  rowSecurity: z
    .strictObject({ enabled: z.boolean().default(true), force: z.boolean().default(false) })
    .optional(),
  /** The table's policies; any other policy on it is dropped. */
  policies: z.record(Name, PolicySchema).optional(),
});

const SimpleObjectSchema = z.strictObject({ owner: Name.optional(), grants: Grants.optional() });

export const DEFAULT_PRIVILEGE_OBJECTS = ['tables', 'sequences', 'functions'] as const;

const DefaultPrivilegesSchema = z.strictObject({
  /** The role whose future objects get these grants (docs: ALTER DEFAULT PRIVILEGES FOR ROLE). */
  owner: Name,
  on: z.enum(DEFAULT_PRIVILEGE_OBJECTS),
  grants: Grants,
});

const SchemaSchema = z.strictObject({
  owner: Name.optional(),
  /**
   * The spec owns this schema: every table, sequence and function in it has
   * exactly the grants and policies the spec gives (none if not named).
   */
  owned: z.boolean().default(false),
  grants: Grants.optional(),
  tables: z.record(Name, TableSchema).default({}),
  sequences: z.record(Name, SimpleObjectSchema).default({}),
  /** Keyed by signature, e.g. `tenant_of(text)`, as `to_regprocedure` reads it. */
  functions: z.record(z.string().min(3), SimpleObjectSchema).default({}),
  defaultPrivileges: z.array(DefaultPrivilegesSchema).default([]),
});

export const TEMPLATES = ['read-only', 'read-write', 'app-owner', 'migration'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

const TemplateSchema = z.strictObject({
  template: z.enum(TEMPLATES),
  /** The role the template shapes; created as a group role unless `roles` says otherwise. */
  role: Name,
  schemas: z.array(Name).min(1, 'a template needs at least one schema'),
  /**
   * The role that owns the application's objects: future tables it creates get
   * the template's grants (read-only, read-write), and `migration` joins it.
   * Defaults to each schema's owner.
   */
  owner: Name.optional(),
});

export const AccessSpecSchema = z.strictObject({
  version: z.literal(1).default(1),
  database: Name,
  roles: z.record(Name, RoleSchema).default({}),
  templates: z.array(TemplateSchema).default([]),
  /** Privileges on the database itself (CONNECT, CREATE, TEMPORARY). */
  grants: Grants.optional(),
  schemas: z.record(Name, SchemaSchema).default({}),
});

export type AccessSpecInput = z.input<typeof AccessSpecSchema>;
export type AccessSpec = z.output<typeof AccessSpecSchema>;
export type RoleSpec = z.output<typeof RoleSchema>;
export type PolicySpec = z.output<typeof PolicySchema>;
export type TableSpec = z.output<typeof TableSchema>;
export type SchemaSpec = z.output<typeof SchemaSchema>;
export type TemplateSpec = z.output<typeof TemplateSchema>;
export type GrantsSpec = Readonly<Record<string, readonly string[]>>;
