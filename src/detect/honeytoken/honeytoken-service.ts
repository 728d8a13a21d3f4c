import type pg from 'pg';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import { quoteIdent } from '../../control/sql/quote.js';
import { PgwardenError } from '../../errors.js';
import type { AddRequest } from './honeytoken-request.js';
import {
  deleteHoneytoken,
  findHoneytoken,
  type HoneytokenRecord,
  insertHoneytokens,
  type NewHoneytoken,
  storedMarkers,
} from './honeytoken-store.js';
import { resolveTable } from './honeytoken-table.js';
import { chooseMarkers } from './mark-rows.js';
import { plantRow } from './plant-row.js';

/**
 * add / remove over control connections as the internal superuser: the
 * target database for the rows, the state database for the honeytokens.
 * The two cannot share a transaction; the state database commits first, so
 * a failure leaves at worst a honeytoken whose row is missing (harmless,
 * listed, removable), never a fake row nobody knows about.
 */
export interface HoneytokenTarget {
  /** The managed server's private socket: the state database lives there. */
  readonly socketDir: string;
  /** Opens a session in a database holding the rows. */
  readonly connect: (database: string) => Promise<pg.Client>;
}

/** Statements on the target database never wait long for locks, nor run for ever. */
const LIMITS = ["SET LOCAL statement_timeout = '60s'", "SET LOCAL lock_timeout = '10s'"];

export async function addHoneytokens(
  target: HoneytokenTarget,
  request: AddRequest,
  createdBy: string,
): Promise<HoneytokenRecord[]> {
  return withControl(target.socketDir, STATE_DATABASE, async (state) =>
    inDatabase(target, request.database, async (client) => {
      // Marking only reads: a condition with side effects fails instead of writing.
      await client.query(
        request.mode === 'mark' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN',
      );
      await state.query('BEGIN');
      try {
        for (const limit of LIMITS) await client.query(limit);
        const table = await resolveTable(client, request.table);
        let honeytokens: NewHoneytoken[];
        if (request.mode === 'mark') {
          const chosen = await chooseMarkers(
            client,
            table,
            request.where,
            request.column,
            await storedMarkers(state),
          );
          honeytokens = chosen.map(({ column, marker }) => ({
            database: request.database,
            table: table.display,
            selector: {
              mode: 'mark',
              schema: table.schema,
              table: table.table,
              column,
              where: request.where,
            },
            marker,
          }));
        } else {
          const marker = await plantRow(
            client,
            table,
            request.column,
            request.values,
            request.markerFormat,
          );
          honeytokens = [
            {
              database: request.database,
              table: table.display,
              selector: {
                mode: 'plant',
                schema: table.schema,
                table: table.table,
                column: request.column,
              },
              marker,
            },
          ];
        }
        const added = await insertHoneytokens(state, honeytokens, createdBy);
        await state.query('COMMIT');
        try {
          await client.query('COMMIT');
        } catch (cause) {
          // The row did not make it: the honeytokens that watch for it go too.
          for (const record of added)
            await deleteHoneytoken(state, record.id).catch(() => undefined);
          throw cause;
        }
        return added;
      } catch (error) {
        await state.query('ROLLBACK').catch(() => undefined);
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }),
  );
}

export interface RemoveResult {
  readonly removed: HoneytokenRecord;
  /** For a planted honeytoken: whether its fake row was deleted too. */
  readonly rowDeleted: boolean;
  /** Why a planted row was left in place. */
  readonly warning?: string | undefined;
}

/**
 * Removes a honeytoken; a planted one takes its fake row with it (found by
 * its marker, deleted only when exactly one row holds it). A marked row is
 * real data and is never touched.
 */
export async function removeHoneytoken(
  target: HoneytokenTarget,
  id: number,
): Promise<RemoveResult> {
  return withControl(target.socketDir, STATE_DATABASE, async (state) => {
    await state.query('BEGIN');
    try {
      const record = await findHoneytoken(state, id);
      if (record === undefined) {
        throw new PgwardenError('PGW_HONEYTOKEN_NOT_FOUND', `no honeytoken has id ${id}`, {
          hint: 'pgwarden detect honeytoken list shows the honeytokens and their ids',
        });
      }
      await deleteHoneytoken(state, id);
      const selector = record.selector;
      if (selector?.mode !== 'plant') {
        await state.query('COMMIT');
        return { removed: record, rowDeleted: false };
      }
      const outcome = await deletePlantedRow(target, record).catch(
        (error: unknown): [boolean, string] => [
          false,
          `the fake row was left in ${record.table}: ${(error as Error).message}`,
        ],
      );
      await state.query('COMMIT');
      return { removed: record, rowDeleted: outcome[0], warning: outcome[1] };
    } catch (error) {
      await state.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** Deletes the row a planted honeytoken put in; [deleted, why not]. */
async function deletePlantedRow(
  target: HoneytokenTarget,
  record: HoneytokenRecord,
): Promise<[boolean, string | undefined]> {
  const selector = record.selector;
  if (selector?.mode !== 'plant') return [false, undefined];
  return inDatabase(target, record.database, async (client) => {
    await client.query('BEGIN');
    try {
      for (const limit of LIMITS) await client.query(limit);
      const table = await resolveTable(client, selector);
      const column = `${quoteIdent(selector.column)}::pg_catalog.text`;
      const result = await client.query(
        `DELETE FROM ${table.sql} WHERE ${column} = $1
           AND (SELECT count(*) FROM ${table.sql} WHERE ${column} = $1) = 1`,
        [record.marker],
      );
      await client.query('COMMIT');
      return result.rowCount === 1
        ? [true, undefined]
        : [false, `no single row of ${record.table} holds the planted value any more: left as is`];
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

async function inDatabase<T>(
  target: HoneytokenTarget,
  database: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  let client: pg.Client;
  try {
    client = await target.connect(database);
  } catch (cause) {
    throw new PgwardenError(
      'PGW_HONEYTOKEN_INVALID',
      `cannot open database "${database}": ${(cause as Error).message}`,
      { cause, hint: 'name an existing database with --database' },
    );
  }
  client.on('error', () => undefined);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
