import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import type { BackendConfig } from '../../config/config-schema.js';
import type { AccessSpec } from '../../control/access-spec/access-spec-schema.js';
import {
  appliedSpecs,
  applySpec,
  planSpec,
  type SpecTarget,
} from '../../control/access-spec/access-spec-service.js';
import { loadAccessSpec } from '../../control/access-spec/load-access-spec.js';
import { type AccessPlan, PLAN_GROUPS } from '../../control/access-spec/plan-access.js';
import { CONTROL_SEARCH_PATH, connectControl } from '../../control/control-client.js';
import { PgwardenError } from '../../errors.js';
import { backendTlsOptions } from '../../gateway/backend/backend-tls.js';
import { readPasswordFile } from '../../gateway/backend/external-role-source.js';
import { inspectDataDir } from '../../server/data-dir.js';
import type { CliIo, CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { requiredFlag, stringFlag } from '../command-flags.js';

export const ACCESS_SPEC_USAGE = [
  'pgwarden access plan --spec FILE [--json]',
  'pgwarden access apply --spec FILE [--expect FINGERPRINT] [--json]',
  'pgwarden access drift [--spec FILE | --database DB] [--json]',
].join('\n       ');

export const SPEC_SUBCOMMANDS: readonly string[] = ['plan', 'apply', 'drift'];

const FLAGS: Record<string, readonly string[]> = {
  plan: ['spec', 'json'],
  apply: ['spec', 'expect', 'json'],
  drift: ['spec', 'database', 'json'],
};
export const ACCESS_SPEC_FLAGS: readonly string[] = [...new Set(Object.values(FLAGS).flat())];

/** `pgwarden access plan|apply|drift`: access control as code (docs/access-spec.md). */
export async function accessSpec(input: CommandInput): Promise<number> {
  const [sub, ...extra] = input.args;
  const allowed = sub === undefined ? undefined : FLAGS[sub];
  if (sub === undefined || allowed === undefined || extra.length > 0) {
    throw usage(`unknown access subcommand "${input.args.join(' ')}"`);
  }
  for (const flag of ACCESS_SPEC_FLAGS) {
    if (input.flags[flag] !== undefined && !allowed.includes(flag)) {
      throw usage(`"pgwarden access ${sub}" does not take --${flag}`);
    }
  }
  if (sub === 'drift' && input.flags.spec !== undefined && input.flags.database !== undefined) {
    throw usage('give --spec or --database, not both');
  }
  // Read the file before touching the server: a bad spec fails fast and offline.
  const specPath =
    sub === 'drift' ? stringFlag(input, 'spec') : requiredFlag(input, 'spec', ACCESS_SPEC_USAGE);
  const spec = specPath === undefined ? undefined : loadAccessSpec(resolve(input.io.cwd, specPath));
  const ctx = await runningServerContext(input);
  const dir = inspectDataDir(ctx.layout);
  const backend = ctx.config.backend;
  const target: SpecTarget = {
    socketDir: ctx.layout.socketDir,
    connect:
      backend === undefined
        ? (database) => connectControl(ctx.layout.socketDir, database)
        : (database) => connectBackend(backend, database),
    guardrails: {
      adminUser: dir.kind === 'ready' ? dir.meta.adminUser : ctx.config.server.adminUser,
      privilegedRoles: ctx.config.guardrails.privilegedRoles,
    },
  };
  const json = input.flags.json === true;
  const io = input.io;

  if (sub === 'plan' && spec !== undefined) {
    const plan = await planSpec(target, spec);
    if (json) io.out(JSON.stringify(plan, null, 2));
    else printPlan(io, plan, specPath ?? '');
    return 0;
  }
  if (sub === 'apply' && spec !== undefined) {
    const result = await applySpec(target, spec, {
      source: specPath ?? '',
      actor: userInfo().username,
      expect: stringFlag(input, 'expect'),
    });
    if (json) io.out(JSON.stringify({ ...result.plan, applied: result.applied }, null, 2));
    else if (!result.applied) {
      io.out(`-- database "${spec.database}" already matches the spec: nothing applied`);
    } else {
      printSteps(io, result.plan);
      io.out(
        `-- applied ${result.plan.steps.length} statement(s) to database "${spec.database}" in one transaction (${result.plan.fingerprint})`,
      );
    }
    return 0;
  }
  return drift(io, target, spec, stringFlag(input, 'database'), json);
}

async function drift(
  io: CliIo,
  target: SpecTarget,
  file: AccessSpec | undefined,
  database: string | undefined,
  json: boolean,
): Promise<number> {
  const baselines =
    file === undefined
      ? (await appliedSpecs(target.socketDir, database)).map((a) => ({
          spec: a.spec,
          from: `the spec applied ${a.appliedAt.toISOString()} by ${a.appliedBy} from ${a.source} (${a.fingerprint})`,
        }))
      : [{ spec: file, from: 'the spec file' }];
  if (baselines.length === 0) {
    throw new PgwardenError(
      'PGW_ACCESS_NOT_APPLIED',
      database === undefined
        ? 'no access spec has been applied yet, so there is nothing to drift from'
        : `no access spec has been applied to database "${database}" yet`,
      {
        hint: 'apply one with pgwarden access apply --spec FILE, or compare with a file: --spec FILE',
      },
    );
  }
  const reports: { database: string; from: string; drifted: boolean; plan: AccessPlan }[] = [];
  for (const baseline of baselines) {
    const plan = await planSpec(target, baseline.spec);
    reports.push({
      database: baseline.spec.database,
      from: baseline.from,
      drifted: plan.steps.length > 0,
      plan,
    });
  }
  if (json) io.out(JSON.stringify(reports, null, 2));
  else {
    for (const report of reports) {
      if (!report.drifted) {
        io.out(`no drift: database "${report.database}" matches ${report.from}`);
        continue;
      }
      io.out(
        `drift: database "${report.database}" differs from ${report.from} in ${report.plan.steps.length} place(s)`,
      );
      for (const step of report.plan.steps) {
        io.out(`  - ${step.why}`);
        io.out(`    restore: ${step.sql}`);
      }
    }
  }
  return reports.some((r) => r.drifted) ? 1 : 0;
}

function printPlan(io: CliIo, plan: AccessPlan, specPath: string): void {
  if (plan.steps.length === 0) {
    io.out(`-- database "${plan.database}" matches the spec: nothing to do`);
    return;
  }
  io.out(
    `-- pgwarden access plan for database "${plan.database}": ${plan.steps.length} statement(s), ${plan.fingerprint}`,
  );
  io.out(
    `-- apply exactly this plan: pgwarden access apply --spec ${specPath} --expect ${plan.fingerprint}`,
  );
  printSteps(io, plan);
}

function printSteps(io: CliIo, plan: AccessPlan): void {
  for (const group of PLAN_GROUPS) {
    const steps = plan.steps.filter((s) => s.group === group);
    if (steps.length === 0) continue;
    io.out('');
    io.out(`-- ${group}`);
    for (const step of steps) {
      io.out(`-- ${step.why.replace(/\n/g, ' ')}`);
      io.out(step.sql);
    }
  }
}

/**
 * An external backend is managed as backend.authUser, over the gateway's own
 * TLS settings: that role needs the power the spec uses (a superuser, or
 * CREATEROLE and ownership of the objects).
 */
async function connectBackend(backend: BackendConfig, database: string): Promise<pg.Client> {
  const tls = backendTlsOptions(backend);
  const client = new pg.Client({
    host: backend.host,
    port: backend.port,
    user: backend.authUser,
    password: readPasswordFile(backend.authPasswordFile),
    database,
    application_name: 'pgwarden-control',
    connectionTimeoutMillis: 10_000,
    options: CONTROL_SEARCH_PATH,
    ssl:
      tls.mode === 'disable'
        ? false
        : {
            rejectUnauthorized: tls.mode === 'verify-full',
            servername: tls.serverName,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          },
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, { hint: `usage: ${ACCESS_SPEC_USAGE}` });
}
