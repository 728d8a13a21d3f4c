import { userInfo } from 'node:os';
import { connectControl, STATE_DATABASE, withControl } from '../../control/control-client.js';
import { parseAddRequest } from '../../detect/honeytoken/honeytoken-request.js';
import {
  addHoneytokens,
  type HoneytokenTarget,
  removeHoneytoken,
} from '../../detect/honeytoken/honeytoken-service.js';
import {
  type HoneytokenRecord,
  listHoneytokens,
} from '../../detect/honeytoken/honeytoken-store.js';
import { PgwardenError } from '../../errors.js';
import type { CliIo, CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { requiredFlag, stringFlag } from '../command-flags.js';
import { printTable } from '../print-table.js';

export const DETECT_HONEYTOKEN_USAGE = [
  'pgwarden detect honeytoken add --table [schema.]T --where CONDITION [--column C] [--database D] [--json]',
  'pgwarden detect honeytoken add --table [schema.]T --plant --column C [--values JSON] [--marker-format F] [--database D] [--json]',
  'pgwarden detect honeytoken list [--json] | remove --id N',
].join('\n       ');

const FLAGS: Record<string, readonly string[]> = {
  add: ['table', 'where', 'column', 'plant', 'values', 'marker-format', 'database', 'json'],
  list: ['json'],
  remove: ['id'],
};
export const DETECT_HONEYTOKEN_FLAGS: readonly string[] = [...new Set(Object.values(FLAGS).flat())];

/** `pgwarden detect honeytoken add|list|remove`. */
export async function detectHoneytoken(input: CommandInput): Promise<number> {
  const [, sub, ...extra] = input.args;
  const allowed = sub === undefined ? undefined : FLAGS[sub];
  if (allowed === undefined || extra.length > 0) {
    throw usage(
      sub === undefined
        ? 'detect honeytoken needs a subcommand'
        : `unknown detect honeytoken subcommand "${sub}"`,
    );
  }
  for (const flag of DETECT_HONEYTOKEN_FLAGS) {
    if (input.flags[flag] !== undefined && !allowed.includes(flag)) {
      throw usage(`"pgwarden detect honeytoken ${sub}" does not take --${flag}`);
    }
  }
  // Flags are checked before anything is opened: a bad request fails fast, server or not.
  const request =
    sub === 'add'
      ? await parseAddRequest({
          table: stringFlag(input, 'table'),
          where: stringFlag(input, 'where'),
          column: stringFlag(input, 'column'),
          plant: input.flags.plant === true,
          values: stringFlag(input, 'values'),
          markerFormat: stringFlag(input, 'marker-format'),
          database: stringFlag(input, 'database'),
        })
      : undefined;
  const id = sub === 'remove' ? parseId(requiredFlag(input, 'id', DETECT_HONEYTOKEN_USAGE)) : 0;
  const ctx = await runningServerContext(input);
  const target: HoneytokenTarget = {
    socketDir: ctx.layout.socketDir,
    connect: (database) => connectControl(ctx.layout.socketDir, database),
  };
  const { io } = input;
  const json = input.flags.json === true;
  if (request !== undefined) {
    if (ctx.config.backend !== undefined) {
      throw new PgwardenError(
        'PGW_HONEYTOKEN_INVALID',
        'honeytokens can only be added to the managed server yet, not to an external backend',
        { hint: 'plant the row on the external server yourself; the gateway watches any marker' },
      );
    }
    const added = await addHoneytokens(target, request, userInfo().username);
    if (json) {
      io.out(JSON.stringify(added, null, 2));
    } else {
      printRecords(io, added);
      io.out(
        `${request.mode === 'mark' ? 'marked' : 'planted'} ${added.length} honeytoken(s); running gateways watch for them within a second`,
      );
    }
    return 0;
  }
  if (sub === 'remove') {
    const result = await removeHoneytoken(target, id);
    io.out(
      `removed honeytoken ${id} (${result.removed.table})${result.rowDeleted ? ' and the row it planted' : ''}; running gateways stop watching for it within a second`,
    );
    if (result.warning !== undefined) io.err(`pgwarden: warning: ${result.warning}`);
    return 0;
  }
  const records = await withControl(ctx.layout.socketDir, STATE_DATABASE, listHoneytokens);
  if (json) io.out(JSON.stringify(records, null, 2));
  else printRecords(io, records);
  return 0;
}

function printRecords(io: CliIo, records: readonly HoneytokenRecord[]): void {
  printTable(
    io,
    ['id', 'database', 'table', 'mode', 'column', 'marker', 'created by', 'created at'],
    records.map((r) => [
      String(r.id),
      r.database,
      r.table,
      r.selector?.mode ?? '-',
      r.selector?.column ?? '-',
      r.marker,
      r.createdBy,
      r.createdAt,
    ]),
  );
}

function parseId(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw usage(`--id "${text}" is not a honeytoken id`);
  return Number(text);
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, {
    hint: `usage: ${DETECT_HONEYTOKEN_USAGE}`,
  });
}
