import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import { recordJitEvent } from '../access/jit-events.js';
import { STATE_DATABASE, withControl } from '../control-client.js';
import type { AccessSpec } from './access-spec-schema.js';
import { parseAccessSpec } from './load-access-spec.js';
import { type AccessPlan, type PlanOptions, planAccess } from './plan-access.js';

/**
 * plan / apply / drift over control connections: the spec's database for the
 * catalog, the state database for what was applied and the audit outbox.
 */

export interface SpecTarget {
  /** The managed server's private socket: the state database lives there. */
  readonly socketDir: string;
  /** Opens a session in the spec's database: the managed server's, or the external backend's. */
  readonly connect: (database: string) => Promise<pg.Client>;
  readonly guardrails: Omit<PlanOptions, 'jitMemberships'>;
}

/** A spec as last applied to a database, for drift. */
export interface AppliedSpec {
  readonly spec: AccessSpec;
  readonly source: string;
  readonly fingerprint: string;
  readonly appliedBy: string;
  readonly appliedAt: Date;
}

export async function planSpec(target: SpecTarget, spec: AccessSpec): Promise<AccessPlan> {
  const jitMemberships = await withControl(target.socketDir, STATE_DATABASE, readJitMemberships);
  return inSpecDatabase(target, spec, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE');
    try {
      return await planAccess(client, spec, { ...target.guardrails, jitMemberships });
    } finally {
      // A plan changes nothing: its probes are rolled back with it.
      await client.query('ROLLBACK').catch(() => undefined);
    }
  });
}

export interface ApplyResult {
  readonly plan: AccessPlan;
  readonly applied: boolean;
}

/**
 * Plans and runs the plan in one transaction (all or nothing), then records
 * the spec and an `access.spec-applied` event in the state database. The two
 * databases cannot share a transaction; the state rows are written first and
 * committed last, so a failed apply records nothing.
 */
export async function applySpec(
  target: SpecTarget,
  spec: AccessSpec,
  options: {
    readonly source: string;
    readonly actor: string;
    readonly expect?: string | undefined;
  },
): Promise<ApplyResult> {
  return withControl(target.socketDir, STATE_DATABASE, async (state) => {
    const jitMemberships = await readJitMemberships(state);
    return inSpecDatabase(target, spec, async (client) => {
      await client.query('BEGIN');
      await state.query('BEGIN');
      try {
        // Wait for table locks at most this long rather than hang behind a long transaction.
        await client.query("SET LOCAL lock_timeout = '10s'");
        const plan = await planAccess(client, spec, { ...target.guardrails, jitMemberships });
        if (options.expect !== undefined && options.expect !== plan.fingerprint) {
          throw new PgwardenError(
            'PGW_ACCESS_PLAN_CHANGED',
            `the plan is now ${plan.fingerprint}, not the reviewed ${options.expect}`,
            { hint: 'run pgwarden access plan again and review what changed' },
          );
        }
        if (plan.steps.length === 0) {
          await client.query('ROLLBACK');
          await state.query('ROLLBACK');
          return { plan, applied: false };
        }
        for (const step of plan.steps) {
          try {
            await client.query(step.sql);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            throw new PgwardenError(
              'PGW_ACCESS_APPLY_FAILED',
              `the server refused "${step.sql.length > 200 ? `${step.sql.slice(0, 200)}…` : step.sql}": ${reason}`,
              {
                hint: 'nothing was changed; fix the spec or the database and apply again',
                cause: error,
              },
            );
          }
        }
        await state.query(
          `INSERT INTO pgwarden.access_specs (database, spec, source, fingerprint, statements, applied_by)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            spec.database,
            JSON.stringify(spec),
            options.source,
            plan.fingerprint,
            plan.steps.length,
            options.actor,
          ],
        );
        await recordJitEvent(state, {
          event: 'access.spec-applied',
          requestId: null,
          actor: options.actor,
          detail: `access spec applied to database "${spec.database}": ${plan.steps.length} statement(s), ${plan.fingerprint}`,
          access: {
            database: spec.database,
            fingerprint: plan.fingerprint,
            statements: plan.steps.length,
            source: options.source,
          },
        });
        await client.query('COMMIT');
        await state.query('COMMIT');
        return { plan, applied: true };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        await state.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  });
}

/** The latest spec applied per database (all databases when `database` is undefined). */
export async function appliedSpecs(
  socketDir: string,
  database: string | undefined,
): Promise<AppliedSpec[]> {
  return withControl(socketDir, STATE_DATABASE, async (state) => {
    const rows = await state.query<{
      spec: unknown;
      source: string;
      fingerprint: string;
      applied_by: string;
      applied_at: Date;
    }>(
      `SELECT DISTINCT ON (database) spec, source, fingerprint, applied_by, applied_at
         FROM pgwarden.access_specs
        WHERE $1::text IS NULL OR database = $1
        ORDER BY database, id DESC`,
      [database ?? null],
    );
    return rows.rows.map((row) => ({
      spec: parseAccessSpec(row.spec, `the spec applied at ${row.applied_at.toISOString()}`),
      source: row.source,
      fingerprint: row.fingerprint,
      appliedBy: row.applied_by,
      appliedAt: row.applied_at,
    }));
  });
}

async function readJitMemberships(state: pg.ClientBase): Promise<[string, string][]> {
  const rows = await state.query<{ requester: string; role: string }>(
    `SELECT requester, role FROM pgwarden.access_requests
      WHERE status = 'granted' AND revoked_at IS NULL AND NOT coalesce(preexisting, false)`,
  );
  return rows.rows.map((row) => [row.requester, row.role]);
}

async function inSpecDatabase<T>(
  target: SpecTarget,
  spec: AccessSpec,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  if (spec.database === STATE_DATABASE || spec.database === 'template0') {
    throw new PgwardenError(
      'PGW_ACCESS_SPEC_INVALID',
      `database: "${spec.database}" is ${spec.database === STATE_DATABASE ? "pgwarden's own state database" : 'read-only'}; a spec cannot manage it`,
      { hint: 'name the application database' },
    );
  }
  let client: pg.Client;
  try {
    client = await target.connect(spec.database);
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') {
      throw new PgwardenError(
        'PGW_ACCESS_SPEC_INVALID',
        `database: "${spec.database}" does not exist`,
        {
          hint: `create it first (CREATE DATABASE as the administrator); a spec manages access, not databases`,
          cause: error,
        },
      );
    }
    throw error;
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
