import type { Queryable } from '../../control/gateway-settings/gateway-settings.js';
import { STATE_CHANNEL } from '../../control/state/state-channel.js';
import { PgwardenError } from '../../errors.js';
import type { HoneytokenRow } from './honeytoken-set.js';

/** Most honeytokens kept: each is a pattern every gateway session searches for. */
export const MAX_HONEYTOKENS = 500;
/** Most a gateway loads, should more have been stored by hand. */
const LOAD_LIMIT = 1000;

/** How a honeytoken was made, kept as JSON in pgwarden.honeytokens.selector. */
export type HoneytokenSelector =
  | {
      readonly mode: 'mark';
      readonly schema: string;
      readonly table: string;
      readonly column: string;
      readonly where: string;
    }
  | {
      readonly mode: 'plant';
      readonly schema: string;
      readonly table: string;
      readonly column: string;
    };

/** A stored honeytoken, as `pgwarden detect honeytoken list` shows it. */
export interface HoneytokenRecord {
  readonly id: number;
  readonly database: string;
  /** schema.table, for people. */
  readonly table: string;
  /** Undefined for a row not written by pgwarden (its selector is not ours). */
  readonly selector: HoneytokenSelector | undefined;
  readonly marker: string;
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface NewHoneytoken {
  readonly database: string;
  readonly table: string;
  readonly selector: HoneytokenSelector;
  readonly marker: string;
}

/** What the gateway watches for: id, where, and the marker. */
export async function readHoneytokens(client: Queryable): Promise<HoneytokenRow[]> {
  const result = await client.query<{
    id: string;
    database: string;
    table_name: string;
    marker: string;
  }>(
    `SELECT id, database, table_name, marker FROM pgwarden.honeytokens ORDER BY id LIMIT ${LOAD_LIMIT}`,
  );
  return result.rows.map((row) => ({
    id: Number(row.id),
    database: row.database,
    table: row.table_name,
    marker: row.marker,
  }));
}

export async function listHoneytokens(client: Queryable): Promise<HoneytokenRecord[]> {
  const result = await client.query<StoredRow>(`${SELECT} ORDER BY id`);
  return result.rows.map(toRecord);
}

export async function findHoneytoken(
  client: Queryable,
  id: number,
): Promise<HoneytokenRecord | undefined> {
  const result = await client.query<StoredRow>(`${SELECT} WHERE id = $1 FOR UPDATE`, [id]);
  const row = result.rows[0];
  return row === undefined ? undefined : toRecord(row);
}

/** The markers already stored, to keep each marker on one honeytoken. */
export async function storedMarkers(client: Queryable): Promise<Set<string>> {
  const result = await client.query<{ marker: string }>('SELECT marker FROM pgwarden.honeytokens');
  return new Set(result.rows.map((row) => row.marker));
}

/**
 * Stores new honeytokens and tells the gateways, in the caller's transaction
 * on the state database. The table is locked against concurrent adds so the
 * limit and the one-marker-one-honeytoken rule hold.
 */
export async function insertHoneytokens(
  client: Queryable,
  honeytokens: readonly NewHoneytoken[],
  createdBy: string,
): Promise<HoneytokenRecord[]> {
  await client.query('LOCK TABLE pgwarden.honeytokens IN SHARE ROW EXCLUSIVE MODE');
  const count = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pgwarden.honeytokens',
  );
  const existing = count.rows[0]?.n ?? 0;
  if (existing + honeytokens.length > MAX_HONEYTOKENS) {
    throw new PgwardenError(
      'PGW_HONEYTOKEN_LIMIT',
      `${existing} honeytokens exist; ${honeytokens.length} more would pass the limit of ${MAX_HONEYTOKENS}`,
      { hint: 'remove honeytokens you no longer need: pgwarden detect honeytoken remove --id N' },
    );
  }
  const taken = await storedMarkers(client);
  if (honeytokens.some((h) => taken.has(h.marker))) {
    throw new PgwardenError('PGW_HONEYTOKEN_INVALID', 'that value is already a honeytoken', {
      hint: 'pgwarden detect honeytoken list shows the honeytokens',
    });
  }
  const result = await client.query<StoredRow>(
    `WITH added AS (
       INSERT INTO pgwarden.honeytokens (database, table_name, selector, marker, created_by)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS h, (VALUES ($5::text)) AS b
       RETURNING id, database, table_name, selector, marker, created_by, created_at
     ), n AS (SELECT pg_notify('${STATE_CHANNEL}', 'honeytokens'))
     SELECT added.* FROM added, n ORDER BY id`,
    [
      honeytokens.map((h) => h.database),
      honeytokens.map((h) => h.table),
      honeytokens.map((h) => JSON.stringify(h.selector)),
      honeytokens.map((h) => h.marker),
      createdBy,
    ],
  );
  return result.rows.map(toRecord);
}

/** Deletes a honeytoken and tells the gateways, in the caller's transaction. */
export async function deleteHoneytoken(client: Queryable, id: number): Promise<void> {
  await client.query(
    `WITH d AS (DELETE FROM pgwarden.honeytokens WHERE id = $1 RETURNING 1)
     SELECT pg_notify('${STATE_CHANNEL}', 'honeytokens') FROM d`,
    [id],
  );
}

interface StoredRow {
  id: string;
  database: string;
  table_name: string;
  selector: string;
  marker: string;
  created_by: string;
  created_at: Date;
}

const SELECT =
  'SELECT id, database, table_name, selector, marker, created_by, created_at FROM pgwarden.honeytokens';

function toRecord(row: StoredRow): HoneytokenRecord {
  return {
    id: Number(row.id),
    database: row.database,
    table: row.table_name,
    selector: parseSelector(row.selector),
    marker: row.marker,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

function parseSelector(text: string): HoneytokenSelector | undefined {
  try {
    const value = JSON.parse(text) as Partial<HoneytokenSelector> | null;
    return (value?.mode === 'mark' || value?.mode === 'plant') &&
      typeof value.schema === 'string' &&
      typeof value.table === 'string' &&
      typeof value.column === 'string'
      ? (value as HoneytokenSelector)
      : undefined;
  } catch {
    return undefined;
  }
}
