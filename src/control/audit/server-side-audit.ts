import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PgwardenError } from '../../errors.js';
import type { PgBinaries } from '../../server/pg-binaries.js';
import { withControl } from '../control-client.js';
import type { Queryable } from '../gateway-settings/gateway-settings.js';
import { resetParameter, setParameter } from '../parameters/parameter-service.js';

export interface ServerSideAudit {
  /** pgaudit is loaded in the running server. */
  readonly active: boolean;
  /** pgaudit is in shared_preload_libraries (in effect after a restart when not active yet). */
  readonly configured: boolean;
  readonly log: string | null;
}

/** The classes pgaudit logs when pgwarden enables it: those the gateway audits by default. */
const PGAUDIT_LOG = 'ddl, role, write';

/**
 * pgaudit on the managed server (pgaudit README, "Settings"): statements run
 * inside functions and by internal roles, which never cross the gateway, are
 * logged by PostgreSQL itself (AUDIT lines in log/postgresql.log). Loading it
 * needs a restart.
 */
export async function enableServerSideAudit(
  socketDir: string,
  binaries: PgBinaries,
  changedBy: string,
): Promise<{ restartRequired: boolean }> {
  if (!existsSync(join(binaries.pkgLibDir, 'pgaudit.so'))) {
    throw new PgwardenError(
      'PGW_AUDIT_SERVER_SIDE_UNAVAILABLE',
      `pgaudit is not installed for PostgreSQL ${binaries.version} (${binaries.binDir})`,
      {
        hint:
          binaries.source === 'embedded'
            ? 'the embedded PostgreSQL ships without pgaudit; use a system PostgreSQL (--pg-bin system) with its pgaudit package'
            : `install it (apt-get install postgresql-${binaries.major}-pgaudit) and run this again`,
      },
    );
  }
  const state = await serverSideAudit(socketDir);
  if (!state.configured) {
    const current = await withControl(socketDir, 'postgres', async (client) => {
      const r = await client.query<{ v: string }>(
        "SELECT current_setting('shared_preload_libraries') AS v",
      );
      return r.rows[0]?.v ?? '';
    });
    const libraries = [
      ...current
        .split(',')
        .map((l) => l.trim())
        .filter((l) => l !== ''),
      'pgaudit',
    ];
    await setParameter(socketDir, 'shared_preload_libraries', libraries.join(','), {
      pkgLibDir: binaries.pkgLibDir,
      changedBy,
    });
  }
  // ALTER SYSTEM refuses pgaudit's settings until the library is loaded: the
  // next start sets them (ensurePgauditExtension).
  if (state.active) await withControl(socketDir, 'postgres', (client) => configurePgaudit(client));
  return { restartRequired: !state.active };
}

export async function disableServerSideAudit(
  socketDir: string,
  binaries: PgBinaries,
  changedBy: string,
): Promise<{ restartRequired: boolean }> {
  const state = await serverSideAudit(socketDir);
  if (!state.configured) return { restartRequired: false };
  const current = await withControl(socketDir, 'postgres', async (client) => {
    const r = await client.query<{ v: string }>(
      "SELECT current_setting('shared_preload_libraries') AS v",
    );
    return r.rows[0]?.v ?? '';
  });
  const rest = current
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'pgaudit');
  if (rest.length === 0) await resetParameter(socketDir, 'shared_preload_libraries', { changedBy });
  else
    await setParameter(socketDir, 'shared_preload_libraries', rest.join(','), {
      pkgLibDir: binaries.pkgLibDir,
      changedBy,
    });
  return { restartRequired: true };
}

export async function serverSideAudit(socketDir: string): Promise<ServerSideAudit> {
  return withControl(socketDir, 'postgres', async (client) => {
    const r = await client.query<{ loaded: string; pending: string | null; log: string | null }>(
      `SELECT current_setting('shared_preload_libraries') AS loaded,
              (SELECT setting FROM pg_file_settings WHERE name = 'shared_preload_libraries' AND applied IS NOT NULL
                ORDER BY seqno DESC LIMIT 1) AS pending,
              current_setting('pgaudit.log', true) AS log`,
    );
    const row = r.rows[0];
    const has = (list: string | null | undefined): boolean =>
      (list ?? '').split(',').some((l) => l.trim().replace(/^'|'$/g, '') === 'pgaudit');
    const active = has(row?.loaded);
    return {
      active,
      configured: active || has(row?.pending),
      log: active ? (row?.log ?? null) : null,
    };
  });
}

/** Called at each start: pgaudit's extension (for its event triggers) exists when the library is loaded. */
export async function ensurePgauditExtension(socketDir: string): Promise<boolean> {
  return withControl(socketDir, 'postgres', async (client) => {
    const r = await client.query<{ v: string }>(
      "SELECT current_setting('shared_preload_libraries') AS v",
    );
    if (!(r.rows[0]?.v ?? '').split(',').some((l) => l.trim() === 'pgaudit')) return false;
    await client.query('CREATE EXTENSION IF NOT EXISTS pgaudit');
    await configurePgaudit(client);
    return true;
  });
}

/** Gives pgaudit.log pgwarden's classes unless someone chose a value (`pgwarden parameter set pgaudit.log`). */
async function configurePgaudit(client: Queryable): Promise<void> {
  const source = await client.query<{ source: string }>(
    "SELECT source FROM pg_settings WHERE name = 'pgaudit.log'",
  );
  if (source.rows[0]?.source !== 'default') return;
  await client.query(`ALTER SYSTEM SET pgaudit.log = '${PGAUDIT_LOG}'`);
  await client.query('ALTER SYSTEM SET pgaudit.log_relation = on');
  await client.query('SELECT pg_reload_conf()');
}
