import { readFileSync, statSync } from 'node:fs';
import pg from 'pg';
import type { BackendConfig } from '../../config/config-schema.js';
import { PgwardenError } from '../../errors.js';
import { classifyRole, type RoleLookup, type RoleSource } from '../role-directory.js';
import type { BackendTlsOptions } from './backend-tls.js';

/**
 * Reads SCRAM verifiers from an external server with a dedicated login and
 * query (as PgBouncer's auth_user/auth_query), over the same TLS settings as
 * the sessions. The gateway then holds the same verifier as the server, which
 * is what SCRAM pass-through needs.
 */
export class ExternalRoleSource implements RoleSource {
  private readonly pool: pg.Pool;

  constructor(
    private readonly config: BackendConfig,
    tls: BackendTlsOptions,
  ) {
    this.pool = new pg.Pool({
      host: config.host,
      port: config.port,
      user: config.authUser,
      password: readPasswordFile(config.authPasswordFile),
      database: config.authDatabase,
      application_name: 'pgwarden-gateway',
      max: 4,
      idleTimeoutMillis: 30_000,
      ssl:
        tls.mode === 'disable'
          ? false
          : {
              rejectUnauthorized: tls.mode === 'verify-full',
              servername: tls.serverName,
              ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            },
    });
    this.pool.on('error', () => undefined);
  }

  async lookup(user: string): Promise<RoleLookup> {
    const result = await this.pool.query<{ rolpassword: string | null; rolsuper: boolean | null }>(
      this.config.authQuery,
      [user],
    );
    const row = result.rows[0];
    return classifyRole(
      user,
      row === undefined
        ? undefined
        : { rolpassword: row.rolpassword, rolsuper: row.rolsuper === true },
    );
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** backend.authPasswordFile's password; refused when group or others can read the file. */
export function readPasswordFile(file: string): string {
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      throw new PgwardenError('PGW_CONFIG_INVALID', `${file} is readable by group or others`, {
        hint: `chmod 600 ${file}: it holds the password the gateway reads verifiers with`,
      });
    }
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (error instanceof PgwardenError) throw error;
    throw new PgwardenError('PGW_CONFIG_INVALID', `cannot read backend.authPasswordFile ${file}`, {
      hint: 'create it (mode 0600) with the password of backend.authUser',
      cause: error,
    });
  }
}
