import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/** Any stable number: serialises concurrent migrators (several gateways may start at once). */
const MIGRATION_LOCK = 0x70677764; // "pgwd"

export interface MigrationResult {
  readonly applied: readonly number[];
  readonly version: number;
}

/**
 * Brings the `pgwarden` schema up to date. Idempotent; refuses to run against
 * a schema migrated by a newer pgwarden, which this one would misread.
 */
export async function migrateState(
  client: pg.Client,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS pgwarden;
      REVOKE ALL ON SCHEMA pgwarden FROM PUBLIC;
      CREATE TABLE IF NOT EXISTS pgwarden.schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
    `);
    const done = await client.query<{ version: number }>(
      'SELECT version FROM pgwarden.schema_migrations',
    );
    const appliedVersions = new Set(done.rows.map((row) => row.version));
    const latest = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...appliedVersions);
    if (newest > latest) {
      throw new PgwardenError(
        'PGW_STATE_SCHEMA_TOO_NEW',
        `the state database is at schema version ${newest}, newer than this pgwarden knows (${latest})`,
        { hint: 'upgrade pgwarden to the version that last ran against this data directory' },
      );
    }
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (appliedVersions.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          'INSERT INTO pgwarden.schema_migrations (version, name) VALUES ($1, $2)',
          [migration.version, migration.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(migration.version);
    }
    return { applied, version: latest };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
