import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type pg from 'pg';
import {
  INTERNAL_ROLES,
  PRIVILEGED_PREDEFINED_ROLES,
} from '../../control/roles/privileged-roles.js';
import { saslprep } from '../auth/saslprep.js';
import { hmac, SCRAM_KEY_LENGTH, sha256 } from '../auth/scram-common.js';
import { parseScramVerifier } from '../auth/scram-verifier.js';

const pbkdf2Async = promisify(pbkdf2);

/**
 * What the guard reads from the managed server's catalog and pgwarden's
 * state, for the checks no parse tree can answer.
 */
export interface GuardCatalog {
  /**
   * For each existing role in `roles`: the internal and privileged predefined
   * roles it is a member of (directly or through others), and SUPERUSER /
   * BYPASSRLS if it has them (SET ROLE hands BYPASSRLS on to its members).
   */
  holdings(roles: readonly string[]): Promise<ReadonlyMap<string, readonly string[]>>;
  /** The role's current verifier and its last `limit` ones kept by `pgwarden role password`. */
  passwordVerifiers(role: string, limit: number): Promise<readonly string[]>;
}

/** Queries on the gateway's control connection to the managed server (pg_authid is shared). */
export interface CatalogQuery {
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export class DirectoryGuardCatalog implements GuardCatalog {
  constructor(private readonly directory: CatalogQuery) {}

  async holdings(roles: readonly string[]): Promise<ReadonlyMap<string, readonly string[]>> {
    const result = await this.directory.query<{ rolname: string; holds: string[] }>(
      `SELECT r.rolname,
              array_remove(ARRAY[CASE WHEN r.rolsuper THEN 'SUPERUSER' END,
                                 CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], NULL)
              || ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_roles g
                        WHERE g.rolname = ANY($2) AND g.oid <> r.oid
                          AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER')
                        ORDER BY g.rolname) AS holds
         FROM pg_catalog.pg_roles r
        WHERE r.rolname = ANY($1)`,
      [roles, [...INTERNAL_ROLES, ...PRIVILEGED_PREDEFINED_ROLES]],
    );
    return new Map(result.rows.map((row) => [row.rolname, row.holds]));
  }

  async passwordVerifiers(role: string, limit: number): Promise<readonly string[]> {
    const current = await this.directory.query<{ rolpassword: string | null }>(
      'SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1',
      [role],
    );
    const history = await this.directory.query<{ verifier: string }>(
      'SELECT verifier FROM pgwarden.password_history WHERE role = $1 ORDER BY set_at DESC LIMIT $2',
      [role, limit],
    );
    const verifiers = history.rows.map((row) => row.verifier);
    const now = current.rows[0]?.rolpassword;
    return now === null || now === undefined ? verifiers : [now, ...verifiers];
  }
}

/** Verifiers with more iterations than this are not compared (each costs a PBKDF2 run). */
const MAX_COMPARED_ITERATIONS = 1_000_000;

/**
 * Whether `password` is the one behind a stored SCRAM-SHA-256 verifier
 * (RFC 5802 section 3, as in scram-verifier-match.ts), with PBKDF2 on
 * libuv's thread pool so the gateway's event loop never waits for it.
 */
export async function matchesVerifierAsync(password: string, verifier: string): Promise<boolean> {
  const parsed = parseScramVerifier(verifier);
  if (parsed === undefined || parsed.iterations > MAX_COMPARED_ITERATIONS) return false;
  let prepared: string;
  try {
    prepared = saslprep(password);
  } catch {
    prepared = password; // as PostgreSQL does when SASLprep refuses
  }
  const salted = await pbkdf2Async(
    Buffer.from(prepared, 'utf8'),
    parsed.salt,
    parsed.iterations,
    SCRAM_KEY_LENGTH,
    'sha256',
  );
  // Constant time, as at login (parseScramVerifier checked both keys are 32 bytes).
  return (
    timingSafeEqual(sha256(hmac(salted, 'Client Key')), parsed.storedKey) &&
    timingSafeEqual(hmac(salted, 'Server Key'), parsed.serverKey)
  );
}
