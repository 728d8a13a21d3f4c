/**
 * `pgwarden parameter list | show | set | reset`: reads pg_settings and changes
 * allow-listed parameters with ALTER SYSTEM (postgresql.auto.conf) followed by
 * a configuration reload. Every change is recorded in pgwarden.parameter_changes.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import { STATE_DATABASE, withControl } from '../control-client.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import {
  allowedParameterNamesLower,
  classifyParameter,
  PARAMETER_NAME_PATTERN,
  type ParameterCategory,
  type ParameterClassification,
  protectedReason,
} from './parameter-policy.js';
import {
  formatIntegerSetting,
  normaliseParameterValue,
  type PgSettingRow,
  splitLibraryList,
} from './parameter-value.js';

/** One row of `pgwarden parameter list`. */
export interface ParameterListRow {
  readonly name: string;
  /** pg_settings.setting: in the base unit, without it. */
  readonly setting: string;
  readonly unit: string | null;
  /** current_setting(name): as SHOW prints it, e.g. '4MB'. */
  readonly value: string;
  readonly category: ParameterCategory;
  readonly context: string;
  readonly pending_restart: boolean;
  readonly short_desc: string;
  readonly source: string;
}

/** The pg_settings row as `pgwarden parameter show` reports it. */
export interface PgSettingDetails extends PgSettingRow {
  readonly boot_val: string | null;
  readonly reset_val: string | null;
  readonly source: string;
  readonly pending_restart: boolean;
  readonly short_desc: string;
}

export interface ParameterDetails extends PgSettingDetails {
  /** current_setting(name): as SHOW prints it. */
  readonly value: string;
  readonly classification: ParameterClassification;
}

export interface SetParameterOptions {
  /** The server's $libdir, where shared_preload_libraries entries must exist as NAME.so. */
  readonly pkgLibDir: string;
  /** Who made the change, recorded in pgwarden.parameter_changes. */
  readonly changedBy: string;
}

export interface ResetParameterOptions {
  readonly changedBy: string;
}

export interface ParameterChange {
  /** The pg_settings spelling, e.g. 'TimeZone'. */
  readonly name: string;
  /** As SHOW printed it before the change. */
  readonly oldValue: string;
  /** The value now in effect, or the value that takes effect at the next restart. */
  readonly newValue: string;
  /** True when the server must restart (pgwarden down && pgwarden up) for it to apply. */
  readonly restartRequired: boolean;
}

const POLL_TIMEOUT_MS = 3_000;
const POLL_INTERVAL_MS = 50;
const LIST_HINT = 'See `pgwarden parameter list` for the parameters you can change.';
const DOCS_HINT = 'docs/parameters.md lists the parameters users may change and why.';

const DETAIL_COLUMNS = `name, setting, unit, vartype, min_val, max_val, enumvals, boot_val,
  reset_val, source, context, pending_restart, short_desc, current_setting(name) AS value`;

/** Every allow-listed parameter that exists on this server, by category, then name. */
export async function listParameters(socketDir: string): Promise<ParameterListRow[]> {
  const result = await withServer(socketDir, 'postgres', (client) =>
    client.query<Omit<ParameterListRow, 'category'>>(
      `SELECT name, setting, unit, current_setting(name) AS value, context, pending_restart,
              short_desc, source
         FROM pg_catalog.pg_settings
        WHERE lower(name) = ANY($1::text[])`,
      [allowedParameterNamesLower()],
    ),
  );
  const rows: ParameterListRow[] = [];
  for (const row of result.rows) {
    const classification = classifyParameter(row.name);
    if (classification.kind !== 'allowed') continue;
    rows.push({ ...row, category: classification.category });
  }
  return rows.sort(
    (a, b) =>
      compare(a.category, b.category) || compare(a.name.toLowerCase(), b.name.toLowerCase()),
  );
}

/** The full pg_settings row of one parameter plus its classification. */
export async function showParameter(socketDir: string, name: string): Promise<ParameterDetails> {
  if (!PARAMETER_NAME_PATTERN.test(name)) throw unknownParameter(name);
  const row = await withServer(socketDir, 'postgres', (client) => findSetting(client, name));
  if (row === undefined) throw unknownParameter(name);
  return { ...row, classification: classifyParameter(row.name) };
}

/**
 * Sets an allow-listed parameter with ALTER SYSTEM, reloads the configuration
 * and records the change. Refuses protected (PGW_PARAMETER_PROTECTED), unknown
 * (PGW_PARAMETER_UNKNOWN) and other (PGW_PARAMETER_NOT_ALLOWED) parameters, in
 * that order, and invalid values (PGW_PARAMETER_INVALID_VALUE).
 */
export async function setParameter(
  socketDir: string,
  name: string,
  value: string,
  options: SetParameterOptions,
): Promise<ParameterChange> {
  refuseProtected(name);
  const change = await withServer(socketDir, 'postgres', async (client) => {
    const row = await changeableSetting(client, name);
    const normalised = normaliseParameterValue(row, value, {
      existsLibrary: (library) => existsSync(join(options.pkgLibDir, `${library}.so`)),
    });
    const values =
      row.name.toLowerCase() === 'shared_preload_libraries'
        ? splitLibraryList(normalised).map(quoteLiteral).join(', ')
        : quoteLiteral(normalised);
    const outcome = await applyChange(
      client,
      row,
      `ALTER SYSTEM SET ${nameSql(row.name)} = ${values}`,
    );
    const restartRequired = restartRequiredOf(row, outcome);
    const newValue = outcome.reloaded && !restartRequired ? outcome.value : normalised;
    return { name: row.name, oldValue: outcome.oldValue, newValue, restartRequired };
  });
  await recordChange(socketDir, change, options.changedBy);
  return change;
}

/**
 * Removes an allow-listed parameter from postgresql.auto.conf (ALTER SYSTEM
 * RESET), so it returns to postgresql.conf or the built-in default; reloads and
 * records the change. Same refusals as setParameter.
 */
export async function resetParameter(
  socketDir: string,
  name: string,
  options: ResetParameterOptions,
): Promise<ParameterChange> {
  refuseProtected(name);
  const change = await withServer(socketDir, 'postgres', async (client) => {
    const row = await changeableSetting(client, name);
    const outcome = await applyChange(client, row, `ALTER SYSTEM RESET ${nameSql(row.name)}`);
    let restartRequired = restartRequiredOf(row, outcome);
    if (outcome.reloaded && !restartRequired) {
      return {
        name: row.name,
        oldValue: outcome.oldValue,
        newValue: outcome.value,
        restartRequired,
      };
    }
    const fromFile = await fileSetting(client, row.name);
    if (outcome.reloaded && fromFile === undefined && outcome.setting === row.boot_val) {
      // PostgreSQL leaves pending_restart set when a not-yet-applied value is
      // removed again, although the built-in default is already in effect.
      restartRequired = false;
    }
    const newValue =
      fromFile ??
      (row.vartype === 'integer' && /^-?\d+$/.test(row.boot_val ?? '')
        ? formatIntegerSetting(Number(row.boot_val), row.unit)
        : (row.boot_val ?? ''));
    return { name: row.name, oldValue: outcome.oldValue, newValue, restartRequired };
  });
  await recordChange(socketDir, change, options.changedBy);
  return change;
}

function refuseProtected(name: string): void {
  const reason = protectedReason(name);
  if (reason !== undefined) {
    throw new PgwardenError(
      'PGW_PARAMETER_PROTECTED',
      `${name.toLowerCase()} is managed by pgwarden: ${reason}`,
      { hint: DOCS_HINT },
    );
  }
}

/** Looks the parameter up and checks it may be changed (after refuseProtected). */
async function changeableSetting(client: pg.Client, name: string): Promise<PgSettingDetails> {
  const row = PARAMETER_NAME_PATTERN.test(name) ? await findSetting(client, name) : undefined;
  if (row === undefined) throw unknownParameter(name);
  const classification = classifyParameter(row.name);
  if (classification.kind === 'protected') {
    throw new PgwardenError(
      'PGW_PARAMETER_PROTECTED',
      `${row.name} is managed by pgwarden: ${classification.reason}`,
      { hint: DOCS_HINT },
    );
  }
  if (classification.kind !== 'allowed') {
    throw new PgwardenError(
      'PGW_PARAMETER_NOT_ALLOWED',
      `${row.name} is not on the list of parameters users may change`,
      { hint: DOCS_HINT },
    );
  }
  if (row.source === 'command line') {
    // A command-line setting outranks postgresql.auto.conf: ALTER SYSTEM would have no effect.
    throw new PgwardenError(
      'PGW_PARAMETER_PROTECTED',
      `${row.name} is managed by pgwarden: it is set on the server command line, which overrides ALTER SYSTEM`,
      { hint: DOCS_HINT },
    );
  }
  return row;
}

async function findSetting(
  client: pg.Client,
  name: string,
): Promise<(PgSettingDetails & { readonly value: string }) | undefined> {
  const result = await client.query<PgSettingDetails & { readonly value: string }>(
    `SELECT ${DETAIL_COLUMNS} FROM pg_catalog.pg_settings WHERE lower(name) = lower($1)`,
    [name],
  );
  return result.rows[0];
}

interface ChangeOutcome {
  /** As SHOW printed it before the change. */
  readonly oldValue: string;
  /** Whether this session re-read the configuration files within the time limit. */
  readonly reloaded: boolean;
  readonly pending_restart: boolean;
  /** pg_settings.setting afterwards. */
  readonly setting: string;
  /** current_setting(name) afterwards. */
  readonly value: string;
}

/**
 * Runs the ALTER SYSTEM statement, reloads, and polls until this session has
 * re-read the configuration files (pg_conf_load_time() moves on), at which
 * point pg_settings shows the value in effect and pending_restart.
 */
async function applyChange(
  client: pg.Client,
  row: PgSettingDetails,
  statement: string,
): Promise<ChangeOutcome> {
  const before = await client.query<{ value: string; loaded: string }>(
    `SELECT current_setting($1) AS value,
            extract(epoch FROM pg_catalog.pg_conf_load_time())::text AS loaded`,
    [row.name],
  );
  const oldValue = before.rows[0]?.value ?? row.setting;
  const loaded = before.rows[0]?.loaded ?? '0';
  try {
    await client.query(statement);
  } catch (error) {
    throw fromServerError(error, row.name);
  }
  await client.query('SELECT pg_catalog.pg_reload_conf()');

  const deadline = Date.now() + POLL_TIMEOUT_MS;
  let state = await readState(client, row.name, loaded);
  while (!state.reloaded && Date.now() < deadline) {
    await sleep(POLL_INTERVAL_MS);
    state = await readState(client, row.name, loaded);
  }
  return { oldValue, ...state };
}

/**
 * pending_restart once the reload is confirmed; unconfirmed, assume the worst
 * for parameters that only change at server start.
 */
function restartRequiredOf(row: PgSettingDetails, outcome: ChangeOutcome): boolean {
  if (outcome.reloaded) return outcome.pending_restart;
  return outcome.pending_restart || row.context === 'postmaster';
}

async function readState(
  client: pg.Client,
  name: string,
  loaded: string,
): Promise<Omit<ChangeOutcome, 'oldValue'>> {
  const result = await client.query<Omit<ChangeOutcome, 'oldValue'>>(
    `SELECT extract(epoch FROM pg_catalog.pg_conf_load_time()) > $2::numeric AS reloaded,
            pending_restart, setting, current_setting(name) AS value
       FROM pg_catalog.pg_settings WHERE name = $1`,
    [name, loaded],
  );
  const state = result.rows[0];
  if (state === undefined) throw unknownParameter(name);
  return state;
}

/** The value the configuration files now give the parameter (the last entry wins). */
async function fileSetting(client: pg.Client, name: string): Promise<string | undefined> {
  const result = await client.query<{ setting: string | null }>(
    `SELECT setting FROM pg_catalog.pg_file_settings
      WHERE lower(name) = lower($1) AND error IS NULL
      ORDER BY seqno DESC LIMIT 1`,
    [name],
  );
  return result.rows[0]?.setting ?? undefined;
}

async function recordChange(
  socketDir: string,
  change: ParameterChange,
  changedBy: string,
): Promise<void> {
  await withServer(socketDir, STATE_DATABASE, (client) =>
    client.query(
      `INSERT INTO pgwarden.parameter_changes
         (name, old_value, new_value, restart_required, changed_by)
       VALUES ($1, $2, $3, $4, $5)`,
      [change.name, change.oldValue, change.newValue, change.restartRequired, changedBy],
    ),
  );
}

/** The parameter name for ALTER SYSTEM: checked, lowercased, each dotted part quoted. */
function nameSql(name: string): string {
  const lower = name.toLowerCase();
  if (!PARAMETER_NAME_PATTERN.test(lower)) throw unknownParameter(name);
  return lower.split('.').map(quoteIdent).join('.');
}

function unknownParameter(name: string): PgwardenError {
  const custom = name.includes('.')
    ? ' Parameters of an extension exist only while its library is loaded (shared_preload_libraries).'
    : '';
  return new PgwardenError(
    'PGW_PARAMETER_UNKNOWN',
    `unrecognized configuration parameter ${JSON.stringify(name)}`,
    { hint: `${LIST_HINT}${custom}` },
  );
}

interface ServerErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly hint?: unknown;
  readonly detail?: unknown;
}

/** Turns a PostgreSQL error from ALTER SYSTEM into a PgwardenError where it is the user's. */
function fromServerError(error: unknown, name: string): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const { code, message, hint, detail } = error as ServerErrorLike;
  if (typeof code !== 'string' || typeof message !== 'string') return error;
  if (code === '42704') return unknownParameter(name);
  if (!code.startsWith('22')) return error;
  return new PgwardenError('PGW_PARAMETER_INVALID_VALUE', message, {
    cause: error,
    hint:
      typeof hint === 'string'
        ? hint
        : `see \`pgwarden parameter show ${name}\` for the values it takes`,
    ...(typeof detail === 'string' ? { details: [detail] } : {}),
  });
}

/**
 * withControl, with "nothing is listening on the socket" turned into
 * PGW_SERVER_NOT_RUNNING. Errors after the connection was made pass through.
 */
async function withServer<T>(
  socketDir: string,
  database: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  let connected = false;
  try {
    return await withControl(socketDir, database, (client) => {
      connected = true;
      return fn(client);
    });
  } catch (error) {
    if (!connected && isNotRunning(error)) {
      throw new PgwardenError(
        'PGW_SERVER_NOT_RUNNING',
        `PostgreSQL is not running (no server on the socket in ${socketDir})`,
        { hint: 'Start it with `pgwarden up`.', cause: error },
      );
    }
    throw error;
  }
}

function isNotRunning(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  // ENOENT: no socket file; ECONNREFUSED: stale socket; 57P03: starting up or shutting down.
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === '57P03';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
