import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { quoteIdent } from '../sql/quote.js';
import { STATE_CHANNEL } from '../state/state-channel.js';

/**
 * Identity providers (OIDC issuers whose access tokens are accepted as
 * passwords) and principals (an immutable id from those tokens mapped to a
 * role), kept in the state database. Every change is announced to running
 * gateways, which apply it within a second: a deleted principal's token is
 * refused at once, and its live sessions end.
 */
export interface IdentityProvider {
  readonly name: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwksUri: string | null;
  readonly jwksFile: string | null;
  /** The claim holding the immutable id of users and services (`sub`, or Entra's `oid`). */
  readonly subjectClaim: string;
  /** The claim listing the groups a user belongs to. */
  readonly groupsClaim: string;
  /** Claims every token must carry besides iss, aud and exp (e.g. tid, azp). */
  readonly requiredClaims: readonly string[];
  readonly createdAt: string;
  readonly createdBy: string;
}

export type PrincipalType = 'user' | 'group' | 'service';

export interface IdentityPrincipal {
  readonly id: number;
  readonly provider: string;
  readonly type: PrincipalType;
  /** The immutable id: the subject claim's value, or a group's id in the groups claim. */
  readonly subject: string;
  readonly role: string;
  /**
   * For groups: `role` lets members log in as the group's role; `member`
   * lets them log in as their own role, which must be a member of it.
   */
  readonly loginAs: 'role' | 'member';
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface ProviderInput {
  readonly name: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwksUri?: string | undefined;
  readonly jwksFile?: string | undefined;
  readonly subjectClaim?: string | undefined;
  readonly groupsClaim?: string | undefined;
  readonly requiredClaims?: readonly string[] | undefined;
}

export interface PrincipalInput {
  readonly provider: string;
  readonly type: PrincipalType;
  readonly subject: string;
  readonly role: string;
  readonly loginAs?: 'role' | 'member' | undefined;
}

export type IdentityMode = 'password' | 'token' | 'both';
export const IDENTITY_MODES: readonly IdentityMode[] = ['password', 'token', 'both'];
const MODE_SETTING = 'identity_mode';

/** The group whose members the gateway may open sessions for without a password (ADR 11). */
export const TOKEN_LOGIN_GROUP = 'pgwarden_token_login';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const CLAIM = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** Roles pgwarden runs on, and PostgreSQL's own: never reachable with a token. */
const INTERNAL_ROLE = /^(pgwarden_su|pgwarden_admin|pgwarden_token_login|pg_.*)$/;

const PROVIDER_SELECT = `SELECT name, issuer, audiences, jwks_uri AS "jwksUri", jwks_file AS "jwksFile",
  subject_claim AS "subjectClaim", groups_claim AS "groupsClaim", required_claims AS "requiredClaims",
  created_at AS "createdAt", created_by AS "createdBy" FROM pgwarden.identity_providers`;
const PRINCIPAL_SELECT = `SELECT id::float8 AS id, provider, type, subject, role, login_as AS "loginAs",
  created_at AS "createdAt", created_by AS "createdBy" FROM pgwarden.identity_principals`;

export async function listProviders(client: Queryable): Promise<IdentityProvider[]> {
  return (await client.query<IdentityProvider>(`${PROVIDER_SELECT} ORDER BY name`)).rows.map(
    (row) => ({ ...row, createdAt: new Date(row.createdAt).toISOString() }),
  );
}

export async function listPrincipals(client: Queryable): Promise<IdentityPrincipal[]> {
  return (await client.query<IdentityPrincipal>(`${PRINCIPAL_SELECT} ORDER BY id`)).rows.map(
    (row) => ({ ...row, createdAt: new Date(row.createdAt).toISOString() }),
  );
}

/** Adds a provider after checking every value (the JWKS file must exist and hold keys). */
export async function addProvider(
  client: pg.Client,
  input: ProviderInput,
  changedBy: string,
): Promise<IdentityProvider> {
  const provider = validateProvider(input);
  const exists = await client.query(
    'SELECT name FROM pgwarden.identity_providers WHERE name = $1 OR issuer = $2',
    [provider.name, provider.issuer],
  );
  if (exists.rowCount !== 0) {
    throw new PgwardenError(
      'PGW_IDENTITY_EXISTS',
      `an identity provider named "${provider.name}" or with issuer ${provider.issuer} already exists`,
      { hint: 'remove it first with pgwarden identity provider remove --name N' },
    );
  }
  await client.query(
    `WITH w AS (
       INSERT INTO pgwarden.identity_providers
         (name, issuer, audiences, jwks_uri, jwks_file, subject_claim, groups_claim, required_claims, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING 1
     ) SELECT pg_notify('${STATE_CHANNEL}', 'identity') FROM w`,
    [
      provider.name,
      provider.issuer,
      provider.audiences,
      provider.jwksUri,
      provider.jwksFile,
      provider.subjectClaim,
      provider.groupsClaim,
      provider.requiredClaims,
      changedBy,
    ],
  );
  const added = (await listProviders(client)).find((p) => p.name === provider.name);
  return added as IdentityProvider;
}

/** Removes a provider; refused while principals still use it. */
export async function removeProvider(client: pg.Client, name: string): Promise<void> {
  const used = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pgwarden.identity_principals WHERE provider = $1',
    [name],
  );
  const count = used.rows[0]?.n ?? 0;
  if (count > 0) {
    throw new PgwardenError(
      'PGW_IDENTITY_INVALID',
      `identity provider "${name}" still has ${count} principal${count === 1 ? '' : 's'}`,
      { hint: 'delete them first (pgwarden identity principal list shows them)' },
    );
  }
  const result = await client.query(
    `WITH d AS (DELETE FROM pgwarden.identity_providers WHERE name = $1 RETURNING 1)
     SELECT pg_notify('${STATE_CHANNEL}', 'identity') FROM d`,
    [name],
  );
  if (result.rowCount === 0) throw notFound(`no identity provider is named "${name}"`);
}

/**
 * Maps a principal to a role. The role must exist, may log in (or be a group
 * role, for `member` logins), and must be neither a superuser nor one of
 * pgwarden's or PostgreSQL's internal roles: a token never reaches those.
 */
export async function createPrincipal(
  client: pg.Client,
  input: PrincipalInput,
  changedBy: string,
): Promise<IdentityPrincipal> {
  const principal = validatePrincipal(input);
  const provider = await client.query('SELECT 1 FROM pgwarden.identity_providers WHERE name = $1', [
    principal.provider,
  ]);
  if (provider.rowCount === 0)
    throw notFound(`no identity provider is named "${principal.provider}"`);
  const role = await client.query<{ rolsuper: boolean; rolcanlogin: boolean }>(
    'SELECT rolsuper, rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1',
    [principal.role],
  );
  const found = role.rows[0];
  if (found === undefined) {
    throw invalid(
      `role "${principal.role}" does not exist`,
      'create the role first (CREATE ROLE ... LOGIN)',
    );
  }
  if (found.rolsuper || INTERNAL_ROLE.test(principal.role)) {
    throw invalid(
      `role "${principal.role}" is a superuser or an internal role; tokens may not log in as it`,
      'map the principal to an ordinary role with only the privileges it needs',
    );
  }
  if (principal.loginAs === 'role' && !found.rolcanlogin) {
    throw invalid(
      `role "${principal.role}" cannot log in`,
      `ALTER ROLE "${principal.role}" LOGIN, or use --login-as member for a group role`,
    );
  }
  const duplicate = await client.query(
    'SELECT 1 FROM pgwarden.identity_principals WHERE provider = $1 AND type = $2 AND subject = $3 AND role = $4',
    [principal.provider, principal.type, principal.subject, principal.role],
  );
  if (duplicate.rowCount !== 0) {
    throw new PgwardenError(
      'PGW_IDENTITY_EXISTS',
      `${principal.type} ${principal.subject} of ${principal.provider} is already mapped to role "${principal.role}"`,
      { hint: 'pgwarden identity principal list shows the mappings' },
    );
  }
  await client.query('BEGIN');
  try {
    // The gateway opens this role's sessions once it has verified a token (ADR 11).
    await client.query(`GRANT ${TOKEN_LOGIN_GROUP} TO ${quoteIdent(principal.role)}`);
    const inserted = await client.query<{ id: number }>(
      `WITH i AS (
         INSERT INTO pgwarden.identity_principals (provider, type, subject, role, login_as, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
       ), n AS (SELECT pg_notify('${STATE_CHANNEL}', 'identity'))
       SELECT i.id::float8 AS id FROM i, n`,
      [
        principal.provider,
        principal.type,
        principal.subject,
        principal.role,
        principal.loginAs,
        changedBy,
      ],
    );
    await client.query('COMMIT');
    const id = inserted.rows[0]?.id as number;
    return (await listPrincipals(client)).find((p) => p.id === id) as IdentityPrincipal;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Deletes a principal: running gateways refuse its tokens and end its sessions
 * within seconds. The role leaves pgwarden_token_login when no other principal
 * maps to it.
 */
export async function deletePrincipal(client: pg.Client, id: number): Promise<void> {
  await client.query('BEGIN');
  try {
    const result = await client.query<{ role: string; others: number }>(
      `WITH d AS (DELETE FROM pgwarden.identity_principals WHERE id = $1 RETURNING role),
            n AS (SELECT pg_notify('${STATE_CHANNEL}', 'identity'))
       SELECT d.role, (SELECT count(*)::int FROM pgwarden.identity_principals p
                        WHERE p.role = d.role AND p.id <> $1) AS others
         FROM d, n`,
      [id],
    );
    const deleted = result.rows[0];
    if (deleted === undefined) throw notFound(`no identity principal has id ${id}`);
    if (deleted.others === 0 && (await roleExists(client, deleted.role))) {
      await client.query(`REVOKE ${TOKEN_LOGIN_GROUP} FROM ${quoteIdent(deleted.role)}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function roleExists(client: Queryable, role: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [role]);
  return result.rowCount !== 0;
}

export async function readIdentityMode(client: Queryable): Promise<IdentityMode> {
  const result = await client.query<{ value: string }>(
    'SELECT value FROM pgwarden.gateway_settings WHERE name = $1',
    [MODE_SETTING],
  );
  const value = result.rows[0]?.value;
  return IDENTITY_MODES.includes(value as IdentityMode) ? (value as IdentityMode) : 'password';
}

export async function setIdentityMode(
  client: pg.Client,
  mode: string,
  changedBy: string,
): Promise<IdentityMode> {
  if (!IDENTITY_MODES.includes(mode as IdentityMode)) {
    throw new PgwardenError(
      'PGW_USAGE',
      `identity mode "${mode}" is not one of ${IDENTITY_MODES.join(', ')}`,
      {
        hint: 'password: passwords only (the default); token: tokens only; both: either',
      },
    );
  }
  await client.query(
    `WITH w AS (
       INSERT INTO pgwarden.gateway_settings (name, value, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
       RETURNING 1
     ) SELECT pg_notify('${STATE_CHANNEL}', 'identity') FROM w`,
    [MODE_SETTING, mode, changedBy],
  );
  return mode as IdentityMode;
}

type ValidProvider = Omit<IdentityProvider, 'createdAt' | 'createdBy'>;

export function validateProvider(input: ProviderInput): ValidProvider {
  if (!NAME.test(input.name)) {
    throw invalid(
      `provider name "${input.name}" is not valid`,
      'use 1-63 letters, digits, _ . - starting with a letter or digit',
    );
  }
  const issuer = input.issuer.trim();
  checkUrl(issuer, '--issuer');
  const audiences = input.audiences.map((a) => a.trim()).filter((a) => a !== '');
  if (audiences.length === 0 || audiences.length > 16 || audiences.some((a) => a.length > 256)) {
    throw invalid(
      '--audience needs 1 to 16 values of at most 256 characters',
      'give the audience your tokens carry in aud, e.g. api://pgwarden',
    );
  }
  if ((input.jwksUri === undefined) === (input.jwksFile === undefined)) {
    throw invalid(
      'give exactly one of --jwks-uri and --jwks-file',
      '--jwks-uri fetches keys from the provider; --jwks-file reads them from a file, for offline use',
    );
  }
  let jwksFile: string | null = null;
  if (input.jwksFile !== undefined) {
    jwksFile = isAbsolute(input.jwksFile) ? input.jwksFile : resolve(input.jwksFile);
    checkJwksFile(jwksFile);
  }
  if (input.jwksUri !== undefined) checkUrl(input.jwksUri, '--jwks-uri');
  const subjectClaim = input.subjectClaim ?? 'sub';
  const groupsClaim = input.groupsClaim ?? 'groups';
  const requiredClaims = (input.requiredClaims ?? []).map((c) => c.trim()).filter((c) => c !== '');
  if (requiredClaims.length > 16)
    throw invalid(
      '--required-claims takes at most 16 claims',
      'name the claims every token must carry',
    );
  for (const [flag, claim] of [
    ['--subject-claim', subjectClaim],
    ['--groups-claim', groupsClaim],
    ...requiredClaims.map((c) => ['--required-claims', c] as const),
  ] as const) {
    if (!CLAIM.test(claim))
      throw invalid(`${flag} "${claim}" is not a claim name`, 'e.g. sub, oid, groups, roles');
  }
  return {
    name: input.name,
    issuer,
    audiences,
    jwksUri: input.jwksUri ?? null,
    jwksFile,
    subjectClaim,
    groupsClaim,
    requiredClaims,
  };
}

function validatePrincipal(input: PrincipalInput): Required<PrincipalInput> {
  if (!['user', 'group', 'service'].includes(input.type)) {
    throw new PgwardenError('PGW_USAGE', `--type "${input.type}" is not user, group or service`, {
      hint: 'user: a person; service: a workload (client credentials, Kubernetes service account); group: members of a group claim',
    });
  }
  const subject = input.subject.trim();
  if (subject === '' || subject.length > 256) {
    throw invalid(
      "--subject needs the principal's immutable id (1-256 characters)",
      'the value of the sub (or oid) claim, or the group id in the groups claim',
    );
  }
  if (input.role === '' || input.role.length > 63)
    throw invalid('--role needs a role name', 'the role the principal logs in as');
  const loginAs = input.loginAs ?? 'role';
  if (loginAs === 'member' && input.type !== 'group') {
    throw invalid(
      '--login-as member is only for group principals',
      'leave it out for users and services',
    );
  }
  return { provider: input.provider, type: input.type, subject, role: input.role, loginAs };
}

function checkUrl(value: string, flag: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${flag} "${value}" is not a URL`, 'use an https:// URL');
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return;
  throw invalid(
    `${flag} ${value} is not https`,
    'use https:// (plain http is accepted only on the loopback interface)',
  );
}

function checkJwksFile(path: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw invalid(
      `cannot read a JWKS from ${path}: ${(cause as Error).message}`,
      'give a JSON file of the form {"keys": [ ... ]} (the provider\'s jwks_uri document)',
    );
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalid(`${path} holds no keys`, 'give a JSON file of the form {"keys": [ ... ]}');
  }
}

function invalid(message: string, hint: string): PgwardenError {
  return new PgwardenError('PGW_IDENTITY_INVALID', message, { hint });
}

function notFound(message: string): PgwardenError {
  return new PgwardenError('PGW_IDENTITY_NOT_FOUND', message, {
    hint: 'pgwarden identity provider list and pgwarden identity principal list show what exists',
  });
}
