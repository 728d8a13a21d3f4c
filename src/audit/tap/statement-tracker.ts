/**
 * Pairs the statements a client sends with the backend's answers, from the
 * messages the relay's scanners tap (PostgreSQL docs 55.2.2 "Simple Query",
 * 55.2.3 "Extended Query", 55.2.5 "Function Call"). Every request that the
 * backend answers goes into a FIFO; backend messages complete them in order.
 * After an error in the extended protocol the backend skips everything up to
 * the next Sync, and so does the tracker.
 */

import type { SessionEffect } from '../classify/session-effect.js';

/** What the classifier says of one statement (see src/audit/classify). */
export interface StatementInfo {
  readonly text: string;
  readonly redactedText: string;
  readonly class: string;
  readonly commandTag: string;
  readonly objects: readonly string[];
  readonly sensitive: boolean;
  readonly effect?: SessionEffect | undefined;
}

export interface StatementTrackerOptions {
  /** The authenticated role: statements run as it until SET ROLE says otherwise. */
  readonly sessionUser: string;
  /** Decode the values of Bind messages (off by default: they may hold secrets). */
  readonly captureParameters?: boolean | undefined;
  /** Which statement classes get a result (all by default); the others are only counted. */
  readonly audited?: ((statementClass: string) => boolean) | undefined;
  /** The clock; for tests. */
  readonly now?: (() => number) | undefined;
  /** Every finished statement, audited or not (the threat-detection feed). */
  readonly onStatement?: ((statement: FinishedStatement) => void) | undefined;
}

/** What the detection feed learns of each finished statement: no classification needed. */
export interface FinishedStatement {
  readonly protocol: StatementResult['protocol'];
  /** The whole text of the Query or Parse message (a Query may hold several statements). */
  readonly sql: string;
  /** The backend's command tag, or the SQLSTATE of the error. */
  readonly outcome: string;
  readonly error: boolean;
  /** Rows returned to the client: DataRow messages, or a COPY TO STDOUT's count. */
  readonly rowsReturned: number;
  /** Bytes of the DataRow and CopyData messages returned (headers included). */
  readonly bytes: number;
}

/** Longest parameter value kept, in characters (text) or bytes (binary, shown as hex). */
const MAX_PARAMETER_CHARS = 1024;

export type Classify = (sql: string) => readonly StatementInfo[];

export interface StatementResult {
  readonly statementId: number;
  readonly protocol: 'simple' | 'extended' | 'function-call';
  readonly info: StatementInfo;
  /** The backend's command tag, or the SQLSTATE of the error. */
  readonly outcome: string;
  readonly error: boolean;
  /** Rows affected or returned, from the command tag; null when the tag carries none. */
  readonly rows: number | null;
  readonly startedAt: number;
  readonly durationMs: number;
  /** Prepared statement name for the extended protocol ('' for the unnamed one). */
  readonly statementName?: string;
  /** The role the statement ran as (the session user unless SET ROLE changed it). */
  readonly role: string;
  /**
   * Bound parameter values, when captured: text as sent (cut at 1024
   * characters with a trailing '…'), binary as `\x` hex, NULL as null.
   */
  readonly parameters?: readonly (string | null)[];
}

type Op =
  | {
      kind: 'query';
      sql: LazyInfos;
      index: number;
      failed: boolean;
      startedAt: number;
    }
  | { kind: 'parse'; name: string; sql: LazyInfos; startedAt: number }
  | {
      kind: 'execute';
      statementName: string;
      /** Captured when the client sends Execute: a later Parse may reuse the name before the answer. */
      sql: LazyInfos;
      parameters: readonly (string | null)[] | undefined;
      startedAt: number;
    }
  | { kind: 'function'; oid: number; startedAt: number }
  | { kind: 'bind' | 'describe' | 'close' | 'sync' };

enum T {
  QUERY = 0x51, // Q
  PARSE = 0x50, // P
  BIND = 0x42, // B
  EXECUTE = 0x45, // E (frontend)
  DESCRIBE = 0x44, // D (frontend)
  CLOSE = 0x43, // C (frontend)
  SYNC = 0x53, // S (frontend)
  FUNCTION_CALL = 0x46, // F
  PARSE_COMPLETE = 0x31, // 1
  BIND_COMPLETE = 0x32, // 2
  CLOSE_COMPLETE = 0x33, // 3
  ROW_DESCRIPTION = 0x54, // T
  NO_DATA = 0x6e, // n
  COMMAND_COMPLETE = 0x43, // C (backend)
  EMPTY_QUERY = 0x49, // I
  PORTAL_SUSPENDED = 0x73, // s
  ERROR_RESPONSE = 0x45, // E (backend)
  READY_FOR_QUERY = 0x5a, // Z
  FUNCTION_CALL_RESPONSE = 0x56, // V
  PARAMETER_STATUS = 0x53, // S (backend)
}

/** DataRow ('D') and CopyData ('d') from the backend: counted by the detection feed, never read. */
const DATA_ROW = 0x44;
const COPY_DATA = 0x64;

interface Portal {
  readonly statementName: string;
  readonly parameters: readonly (string | null)[] | undefined;
}

/**
 * The role statements run as, after SET ROLE (PostgreSQL docs, SET ROLE and
 * SET: a plain SET lasts until the end of the session unless its transaction
 * rolls back; SET LOCAL until the end of the transaction). Savepoints are not
 * followed: after ROLLBACK TO SAVEPOINT the role may be reported as set.
 */
class RoleState {
  /** The session-level value of `role` (null: none, i.e. the session user). */
  private value: string | null = null;
  /** SET LOCAL's value, until the transaction ends. */
  private local: string | null | undefined;
  /** `value` when the current transaction began, restored if it rolls back. */
  private atTransactionStart: string | null = null;
  private inBlock = false;
  private rolledBack = false;

  constructor(private sessionUser: string) {}

  get current(): string {
    const role = this.local === undefined ? this.value : this.local;
    return role ?? this.sessionUser;
  }

  completed(info: StatementInfo, tag: string): void {
    if (tag === 'BEGIN' || tag === 'START TRANSACTION') this.inBlock = true;
    else if (tag === 'ROLLBACK' && info.effect?.kind !== 'rollback-to-savepoint') {
      this.rolledBack = true;
    }
    const effect = info.effect;
    if (effect?.kind !== 'role') return;
    if (!effect.local) {
      this.value = effect.role;
      this.local = undefined;
    } else if (this.inBlock) {
      // Outside a transaction block SET LOCAL only warns and changes nothing.
      this.local = effect.role;
    }
  }

  failed(): void {
    this.rolledBack = true;
  }

  /** ReadyForQuery: 'I' ends the transaction, 'E' says it failed. */
  ready(status: number): void {
    if (status === 0x45) this.rolledBack = true;
    if (status !== 0x49) return;
    if (this.rolledBack) this.value = this.atTransactionStart;
    this.atTransactionStart = this.value;
    this.local = undefined;
    this.inBlock = false;
    this.rolledBack = false;
  }

  /** SET SESSION AUTHORIZATION (reported by ParameterStatus) also ends SET ROLE. */
  sessionAuthorization(user: string): void {
    this.sessionUser = user;
    this.value = null;
    this.atTransactionStart = null;
    this.local = undefined;
  }
}

/** Frontend types the tracker needs: bodies for Q, P, B, E, C, D, F; a notice for S. */
export const FRONTEND_WANTS: ReadonlyArray<readonly [number, 'body' | 'notify']> = [
  [T.QUERY, 'body'],
  [T.PARSE, 'body'],
  [T.BIND, 'body'],
  [T.EXECUTE, 'body'],
  [T.CLOSE, 'body'],
  [T.DESCRIBE, 'notify'],
  [T.SYNC, 'notify'],
  [T.FUNCTION_CALL, 'body'],
];

/**
 * Backend types the tracker needs: bodies for CommandComplete, ErrorResponse,
 * ReadyForQuery (its transaction status) and ParameterStatus
 * (session_authorization).
 */
export const BACKEND_WANTS: ReadonlyArray<readonly [number, 'body' | 'notify']> = [
  [T.COMMAND_COMPLETE, 'body'],
  [T.ERROR_RESPONSE, 'body'],
  [T.PARAMETER_STATUS, 'body'],
  [T.PARSE_COMPLETE, 'notify'],
  [T.BIND_COMPLETE, 'notify'],
  [T.CLOSE_COMPLETE, 'notify'],
  [T.ROW_DESCRIPTION, 'notify'],
  [T.NO_DATA, 'notify'],
  [T.EMPTY_QUERY, 'notify'],
  [T.PORTAL_SUSPENDED, 'notify'],
  [T.READY_FOR_QUERY, 'body'],
  [T.FUNCTION_CALL_RESPONSE, 'notify'],
];

/** BACKEND_WANTS plus what the detection feed counts: DataRow and CopyData (their lengths only). */
export const BACKEND_WANTS_WITH_VOLUME: ReadonlyArray<readonly [number, 'body' | 'notify']> = [
  ...BACKEND_WANTS,
  [DATA_ROW, 'notify'],
  [COPY_DATA, 'notify'],
];

export class StatementTracker {
  private readonly ops: Op[] = [];
  private readonly statements = new Map<string, LazyInfos>();
  private readonly portals = new Map<string, Portal>();
  private nextStatementId = 1;
  private readonly role: RoleState;
  private readonly captureParameters: boolean;
  private readonly audited: (statementClass: string) => boolean;
  private readonly now: () => number;
  /** Statements completed, audited or not, and the rows their command tags report. */
  readonly totals = { statements: 0, rows: 0 };
  private readonly onStatement: ((statement: FinishedStatement) => void) | undefined;
  /** DataRow messages and returned bytes since the last statement finished. */
  private dataRows = 0;
  private returnedBytes = 0;
  private copiedOut = false;

  constructor(
    private readonly classify: Classify,
    private readonly onResult: (result: StatementResult) => void,
    options: StatementTrackerOptions,
  ) {
    this.role = new RoleState(options.sessionUser);
    this.captureParameters = options.captureParameters ?? false;
    this.audited = options.audited ?? (() => true);
    this.now = options.now ?? Date.now;
    this.onStatement = options.onStatement;
  }

  /** The role statements run as now. */
  get currentRole(): string {
    return this.role.current;
  }

  /** A complete frontend message (body possibly truncated to the tap's cap). */
  fromClient(type: number, body: Buffer | undefined): void {
    switch (type) {
      case T.QUERY: {
        const sql = cstring(body, 0).value;
        this.ops.push({
          kind: 'query',
          sql: new LazyInfos(sql, this.classify),
          index: 0,
          failed: false,
          startedAt: this.now(),
        });
        return;
      }
      case T.PARSE: {
        const name = cstring(body, 0);
        const sql = new LazyInfos(cstring(body, name.next).value, this.classify);
        this.statements.set(name.value, sql);
        this.ops.push({ kind: 'parse', name: name.value, sql, startedAt: this.now() });
        return;
      }
      case T.BIND: {
        const portal = cstring(body, 0);
        const statement = cstring(body, portal.next);
        this.portals.set(portal.value, {
          statementName: statement.value,
          parameters: this.captureParameters ? bindParameters(body, statement.next) : undefined,
        });
        this.ops.push({ kind: 'bind' });
        return;
      }
      case T.EXECUTE: {
        const portal = this.portals.get(cstring(body, 0).value);
        const statementName = portal?.statementName ?? '';
        const sql = this.statements.get(statementName) ?? NO_SQL;
        this.ops.push({
          kind: 'execute',
          statementName,
          sql,
          parameters: portal?.parameters,
          startedAt: this.now(),
        });
        return;
      }
      case T.CLOSE: {
        const what = body?.[0];
        const name = cstring(body, 1).value;
        if (what === 0x53) this.statements.delete(name);
        else this.portals.delete(name);
        this.ops.push({ kind: 'close' });
        return;
      }
      case T.DESCRIBE:
        this.ops.push({ kind: 'describe' });
        return;
      case T.SYNC:
        this.ops.push({ kind: 'sync' });
        return;
      case T.FUNCTION_CALL:
        this.ops.push({
          kind: 'function',
          oid: body !== undefined && body.length >= 4 ? body.readUInt32BE(0) : 0,
          startedAt: this.now(),
        });
        return;
    }
  }

  /** A complete backend message; `length` is its length field (DataRow and CopyData are counted by it). */
  fromBackend(type: number, body: Buffer | undefined, length = 0): void {
    const head = this.ops[0];
    switch (type) {
      case DATA_ROW:
        this.dataRows++;
        this.returnedBytes += length + 1;
        return;
      case COPY_DATA:
        this.copiedOut = true;
        this.returnedBytes += length + 1;
        return;
      case T.PARSE_COMPLETE:
      case T.BIND_COMPLETE:
      case T.CLOSE_COMPLETE:
        this.ops.shift();
        return;
      case T.ROW_DESCRIPTION:
      case T.NO_DATA:
        if (head?.kind === 'describe') this.ops.shift();
        return;
      case T.COMMAND_COMPLETE:
      case T.EMPTY_QUERY:
      case T.PORTAL_SUSPENDED: {
        const tag =
          type === T.COMMAND_COMPLETE
            ? cstring(body, 0).value
            : type === T.EMPTY_QUERY
              ? 'EMPTY'
              : 'SUSPENDED';
        if (head?.kind === 'query') this.finishQueryStatement(head, tag, false);
        else if (head?.kind === 'execute') {
          this.ops.shift();
          this.finishExecute(head, tag, false);
        }
        return;
      }
      case T.ERROR_RESPONSE: {
        const code = errorCode(body);
        if (head === undefined) return;
        this.role.failed();
        if (head.kind === 'query') {
          this.finishQueryStatement(head, code, true);
          head.failed = true;
          return;
        }
        if (head.kind === 'execute') this.finishExecute(head, code, true);
        else if (head.kind === 'parse') this.finishParse(head, code);
        else if (head.kind === 'function') this.finishFunction(head, code, true);
        // The backend now skips every message up to the next Sync (docs 55.2.3).
        while (this.ops.length > 0 && this.ops[0]?.kind !== 'sync') this.ops.shift();
        return;
      }
      case T.FUNCTION_CALL_RESPONSE:
        if (head?.kind === 'function') {
          this.ops.shift();
          this.finishFunction(head, 'FUNCTION CALL', false);
        }
        return;
      case T.READY_FOR_QUERY: {
        // Ends one query or one Sync; anything before it was skipped after an error.
        while (this.ops.length > 0) {
          const op = this.ops.shift() as Op;
          if (op.kind === 'query' || op.kind === 'sync') break;
        }
        if (body !== undefined && body.length > 0) this.role.ready(body[0] as number);
        return;
      }
      case T.PARAMETER_STATUS: {
        const name = cstring(body, 0);
        if (name.value === 'session_authorization') {
          this.role.sessionAuthorization(cstring(body, name.next).value);
        }
        return;
      }
    }
  }

  private finishQueryStatement(
    op: Extract<Op, { kind: 'query' }>,
    outcome: string,
    error: boolean,
  ): void {
    if (op.failed) return;
    const infos = op.sql.infos;
    const info = infos[Math.min(op.index, infos.length - 1)] ?? UNKNOWN;
    const now = this.now();
    this.emit('simple', op.sql.text, info, outcome, error, op.startedAt, now);
    if (!error) this.role.completed(info, outcome);
    op.index++;
    op.startedAt = now;
  }

  private finishExecute(
    op: Extract<Op, { kind: 'execute' }>,
    outcome: string,
    error: boolean,
  ): void {
    const info = op.sql.infos[0] ?? UNKNOWN;
    this.emit(
      'extended',
      op.sql.text,
      info,
      outcome,
      error,
      op.startedAt,
      this.now(),
      op.statementName,
      op.parameters,
    );
    if (!error) this.role.completed(info, outcome);
  }

  private finishParse(op: Extract<Op, { kind: 'parse' }>, code: string): void {
    this.emit(
      'extended',
      op.sql.text,
      op.sql.infos[0] ?? UNKNOWN,
      code,
      true,
      op.startedAt,
      this.now(),
      op.name,
    );
  }

  private finishFunction(
    op: Extract<Op, { kind: 'function' }>,
    outcome: string,
    error: boolean,
  ): void {
    const info: StatementInfo = {
      text: `<function call oid ${op.oid}>`,
      redactedText: `<function call oid ${op.oid}>`,
      class: 'FUNCTION',
      commandTag: 'FUNCTION CALL',
      objects: [`oid:${op.oid}`],
      sensitive: false,
    };
    this.emit('function-call', info.text, info, outcome, error, op.startedAt, this.now());
  }

  private emit(
    protocol: StatementResult['protocol'],
    text: string,
    info: StatementInfo,
    outcome: string,
    error: boolean,
    startedAt: number,
    endedAt: number,
    statementName?: string,
    parameters?: readonly (string | null)[],
  ): void {
    const rows = error ? null : rowsOf(outcome);
    const statementId = this.nextStatementId++;
    this.totals.statements++;
    if (rows !== null) this.totals.rows += rows;
    if (this.onStatement !== undefined) this.finished(protocol, text, outcome, error, rows);
    // Most statements of a session are usually not audited: no result for them.
    if (!this.audited(info.class)) return;
    this.onResult({
      statementId,
      protocol,
      info,
      outcome,
      error,
      rows,
      startedAt,
      durationMs: endedAt - startedAt,
      role: this.role.current,
      ...(statementName === undefined ? {} : { statementName }),
      ...(parameters === undefined ? {} : { parameters }),
    });
  }

  /** Hands the feed what the statement returned, then starts counting for the next one. */
  private finished(
    protocol: StatementResult['protocol'],
    sql: string,
    outcome: string,
    error: boolean,
    tagRows: number | null,
  ): void {
    // A COPY TO STDOUT sends CopyData, not DataRow: its rows are the tag's count.
    const rowsReturned = this.dataRows + (this.copiedOut ? (tagRows ?? 0) : 0);
    const bytes = this.returnedBytes;
    this.dataRows = 0;
    this.returnedBytes = 0;
    this.copiedOut = false;
    this.onStatement?.({ protocol, sql, outcome, error, rowsReturned, bytes });
  }
}

/**
 * A statement's SQL, classified when its outcome arrives rather than when it
 * is sent: the tap runs before the relay forwards a client's message, so
 * parsing there would delay the statement; by the time the answer comes, the
 * client already has it.
 */
class LazyInfos {
  private value: readonly StatementInfo[] | undefined;

  constructor(
    /** The message's text, as sent. */
    readonly text: string,
    private readonly classify: Classify,
  ) {}

  get infos(): readonly StatementInfo[] {
    this.value ??= this.classify(this.text);
    return this.value;
  }
}

const NO_SQL = new LazyInfos('', () => []);

const UNKNOWN: StatementInfo = {
  text: '',
  redactedText: '',
  class: 'UNKNOWN',
  commandTag: 'UNKNOWN',
  objects: [],
  sensitive: false,
};

/** Command tags that end with a row count (docs 55.7, CommandComplete). */
const ROW_TAGS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'FETCH',
  'MOVE',
  'COPY',
]);

/** Rows from a command tag: the last number of "SELECT 5", "INSERT 0 3", "COPY 10". */
function rowsOf(tag: string): number | null {
  const space = tag.indexOf(' ');
  if (space < 0 || !ROW_TAGS.has(tag.slice(0, space))) return null;
  const last = tag.lastIndexOf(' ');
  const rows = Number(tag.slice(last + 1));
  return Number.isSafeInteger(rows) && rows >= 0 ? rows : null;
}

function cstring(body: Buffer | undefined, start: number): { value: string; next: number } {
  if (body === undefined || start >= body.length) return { value: '', next: start };
  const end = body.indexOf(0, start);
  const stop = end < 0 ? body.length : end;
  return { value: body.toString('utf8', start, stop), next: stop + 1 };
}

/**
 * The parameter values of a Bind body, from just after the statement name
 * (docs 55.7, Bind: format codes, then each value as Int32 length, -1 for
 * NULL, and bytes). A body cut short by the tap's cap yields the values that
 * are whole, then '<truncated>'.
 */
function bindParameters(body: Buffer | undefined, start: number): readonly (string | null)[] {
  if (body === undefined) return [];
  let offset = start;
  if (offset + 2 > body.length) return [];
  const formatCount = body.readUInt16BE(offset);
  offset += 2;
  const formats: number[] = [];
  for (let i = 0; i < formatCount && offset + 2 <= body.length; i++, offset += 2) {
    formats.push(body.readUInt16BE(offset));
  }
  if (offset + 2 > body.length) return [];
  const count = body.readUInt16BE(offset);
  offset += 2;
  const values: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 4 > body.length) {
      values.push('<truncated>');
      break;
    }
    const length = body.readInt32BE(offset);
    offset += 4;
    if (length < 0) {
      values.push(null);
      continue;
    }
    const binary = (formatCount === 1 ? formats[0] : formats[i]) === 1;
    const end = offset + length;
    values.push(binary ? hexValue(body, offset, end) : textValue(body, offset, end));
    if (end > body.length) break;
    offset = end;
  }
  return values;
}

function textValue(body: Buffer, start: number, end: number): string {
  const stop = Math.min(end, body.length, start + MAX_PARAMETER_CHARS * 4);
  const text = body.toString('utf8', start, stop);
  if (text.length > MAX_PARAMETER_CHARS) return `${text.slice(0, MAX_PARAMETER_CHARS)}…`;
  return stop < end ? `${text}…` : text;
}

function hexValue(body: Buffer, start: number, end: number): string {
  const stop = Math.min(end, body.length, start + MAX_PARAMETER_CHARS / 2);
  return `\\x${body.toString('hex', start, stop)}${stop < end ? '…' : ''}`;
}

/** The SQLSTATE ('C' field) of an ErrorResponse body. */
function errorCode(body: Buffer | undefined): string {
  if (body === undefined) return 'XX000';
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const field = body[offset] as number;
    const end = body.indexOf(0, offset + 1);
    if (end < 0) break;
    if (field === 0x43) return body.toString('latin1', offset + 1, end);
    offset = end + 1;
  }
  return 'XX000';
}
