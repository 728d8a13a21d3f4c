import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FinishedStatement,
  type StatementInfo,
  type StatementResult,
  StatementTracker,
} from '../../../src/audit/tap/statement-tracker.js';
import type { SessionSummary, StatementObservation } from '../../../src/detect/detection-input.js';
import { commandVerb, statementFeed } from '../../../src/detect/statement/statement-feed.js';

/** The tracker needs a classifier; the feed does not look at its answers. */
const classify = (sql: string): StatementInfo[] =>
  sql
    .split(';')
    .filter((s) => s.trim() !== '')
    .map((text) => ({
      text,
      redactedText: text,
      class: 'READ',
      commandTag: 'SELECT',
      objects: [],
      sensitive: false,
    }));

const cs = (...parts: string[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(`${p}\0`)));
const ch = (c: string): number => c.charCodeAt(0);
const error = (code: string): Buffer =>
  Buffer.concat([Buffer.from(`SERROR\0C${code}\0Mboom\0`), Buffer.from([0])]);

function track(audited = false): {
  tracker: StatementTracker;
  finished: FinishedStatement[];
  results: StatementResult[];
} {
  const finished: FinishedStatement[] = [];
  const results: StatementResult[] = [];
  const tracker = new StatementTracker(classify, (r) => results.push(r), {
    sessionUser: 'alice',
    audited: () => audited,
    onStatement: (s) => finished.push(s),
  });
  return { tracker, finished, results };
}

/** A DataRow or CopyData of `length` (its length field) as the scanner reports it. */
const row = (tracker: StatementTracker, length: number): void =>
  tracker.fromBackend(ch('D'), undefined, length);

describe('the detection feed of the statement tracker', () => {
  it('hands over every finished statement with the rows and bytes it returned, audited or not', () => {
    const { tracker, finished, results } = track(false);
    const sql = 'SELECT a FROM t; SELECT b FROM u';
    tracker.fromClient(ch('Q'), cs(sql));
    tracker.fromBackend(ch('T'), undefined);
    row(tracker, 14);
    row(tracker, 20);
    tracker.fromBackend(ch('C'), cs('SELECT 2'));
    tracker.fromBackend(ch('T'), undefined);
    row(tracker, 9);
    tracker.fromBackend(ch('C'), cs('SELECT 1'));
    tracker.fromBackend(ch('Z'), Buffer.from('I'));
    assert.equal(results.length, 0, 'nothing audited');
    assert.deepEqual(finished, [
      {
        protocol: 'simple',
        sql,
        outcome: 'SELECT 2',
        error: false,
        rowsReturned: 2,
        bytes: 15 + 21,
      },
      { protocol: 'simple', sql, outcome: 'SELECT 1', error: false, rowsReturned: 1, bytes: 10 },
    ]);
  });

  it('counts a COPY TO STDOUT by its CopyData and its tag, a COPY FROM STDIN as returning nothing', () => {
    const { tracker, finished } = track();
    tracker.fromClient(ch('Q'), cs('COPY t TO STDOUT'));
    tracker.fromBackend(ch('d'), undefined, 100);
    tracker.fromBackend(ch('d'), undefined, 100);
    tracker.fromBackend(ch('d'), undefined, 100);
    tracker.fromBackend(ch('C'), cs('COPY 3'));
    tracker.fromBackend(ch('Z'), Buffer.from('I'));
    tracker.fromClient(ch('Q'), cs('COPY t FROM STDIN'));
    tracker.fromBackend(ch('C'), cs('COPY 3'));
    tracker.fromBackend(ch('Z'), Buffer.from('I'));
    assert.deepEqual(
      finished.map((f) => [f.sql, f.rowsReturned, f.bytes]),
      [
        ['COPY t TO STDOUT', 3, 303],
        ['COPY t FROM STDIN', 0, 0],
      ],
    );
  });

  it('counts the rows of a portal fetched in parts, and the rows a failed statement sent first', () => {
    const { tracker, finished } = track();
    tracker.fromClient(ch('P'), cs('', 'SELECT * FROM big'));
    tracker.fromClient(ch('B'), Buffer.concat([cs('', ''), Buffer.alloc(6)]));
    tracker.fromClient(ch('E'), Buffer.concat([cs(''), Buffer.from([0, 0, 0, 2])]));
    tracker.fromClient(ch('S'), undefined);
    tracker.fromBackend(ch('1'), undefined);
    tracker.fromBackend(ch('2'), undefined);
    row(tracker, 10);
    row(tracker, 10);
    tracker.fromBackend(ch('s'), undefined);
    tracker.fromBackend(ch('Z'), Buffer.from('T'));
    tracker.fromClient(ch('Q'), cs('SELECT 1/(x-3) FROM t'));
    row(tracker, 10);
    tracker.fromBackend(ch('E'), error('22012'));
    tracker.fromBackend(ch('Z'), Buffer.from('I'));
    assert.deepEqual(
      finished.map((f) => [f.protocol, f.outcome, f.error, f.rowsReturned, f.bytes]),
      [
        ['extended', 'SUSPENDED', false, 2, 22],
        ['simple', '22012', true, 1, 11],
      ],
    );
  });
});

describe('StatementFeed', () => {
  const session = {
    session: 's1',
    address: '192.0.2.7',
    user: 'alice',
    database: 'shop',
    applicationName: 'app',
  };

  const engine = (
    wantsStatements = true,
  ): {
    wantsStatements: boolean;
    statements: StatementObservation[];
    summaries: SessionSummary[];
    statement(s: StatementObservation): void;
    sessionEnded(s: SessionSummary): void;
  } => ({
    wantsStatements,
    statements: [],
    summaries: [],
    statement(s) {
      this.statements.push(s);
    },
    sessionEnded(s) {
      this.summaries.push(s);
    },
  });

  it('is there only for an engine that wants statements', () => {
    const off = engine(false);
    assert.equal(statementFeed(off, session), undefined);
    const on = engine(true);
    assert.notEqual(statementFeed(on, session), undefined);
  });

  it('turns finished statements into observations and the session end into its totals, once', () => {
    const sink = engine();
    const feed = statementFeed(sink, session);
    assert.ok(feed !== undefined);
    feed.onStatement({
      protocol: 'simple',
      sql: 'SELECT 1',
      outcome: 'SELECT 1',
      error: false,
      rowsReturned: 1,
      bytes: 11,
    });
    feed.onStatement({
      protocol: 'extended',
      sql: 'GRANT x TO y',
      outcome: '42501',
      error: true,
      rowsReturned: 0,
      bytes: 0,
    });
    feed.onStatement({
      protocol: 'function-call',
      sql: '<function call oid 764>',
      outcome: 'FUNCTION CALL',
      error: false,
      rowsReturned: 0,
      bytes: 0,
    });
    feed.end();
    feed.end();
    assert.deepEqual(
      sink.statements.map((s) => [s.sql, s.protocol, s.command, s.sqlstate, s.rows, s.bytes]),
      [
        ['SELECT 1', 'simple', 'SELECT', undefined, 1, 11],
        ['GRANT x TO y', 'extended', undefined, '42501', 0, 0],
      ],
    );
    assert.equal(sink.statements[0]?.user, 'alice');
    assert.equal(sink.statements[0]?.session, 's1');
    assert.deepEqual(sink.summaries, [{ ...session, rows: 1, bytes: 11, statements: 3 }]);
  });

  it('names the command by the tag without its counts', () => {
    assert.equal(commandVerb('INSERT 0 5'), 'INSERT');
    assert.equal(commandVerb('SELECT 3'), 'SELECT');
    assert.equal(commandVerb('COPY 100000'), 'COPY');
    assert.equal(commandVerb('CREATE TABLE'), 'CREATE TABLE');
    assert.equal(commandVerb('EMPTY'), 'EMPTY');
  });
});
