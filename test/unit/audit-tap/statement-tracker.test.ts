import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type StatementInfo,
  type StatementResult,
  StatementTracker,
} from '../../../src/audit/tap/statement-tracker.js';

/** A stand-in classifier: splits on ';' and names the class by the first word. */
function classify(sql: string): StatementInfo[] {
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((text) => {
      const word = (text.split(/\s+/)[0] ?? '').toUpperCase();
      const cls =
        word === 'SELECT' ? 'READ' : word === 'INSERT' || word === 'COPY' ? 'WRITE' : 'DDL';
      return {
        text,
        redactedText: text,
        class: cls,
        commandTag: word,
        objects: [],
        sensitive: false,
      };
    });
}

const cs = (...parts: string[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(`${p}\0`)));
const error = (code: string): Buffer =>
  Buffer.concat([Buffer.from(`SERROR\0C${code}\0Mboom\0`), Buffer.from([0])]);
const ch = (c: string): number => c.charCodeAt(0);

function track(
  options: {
    captureParameters?: boolean;
    classify?: (sql: string) => readonly StatementInfo[];
  } = {},
): { tracker: StatementTracker; results: StatementResult[] } {
  const results: StatementResult[] = [];
  let clock = 0;
  const tracker = new StatementTracker(options.classify ?? classify, (r) => results.push(r), {
    sessionUser: 'alice',
    captureParameters: options.captureParameters,
    now: () => (clock += 10),
  });
  return { tracker, results };
}

/** A Bind body: portal, statement, format codes, values (null for NULL), no result formats. */
function bind(
  portal: string,
  statement: string,
  formats: number[],
  values: (Buffer | null)[],
): Buffer {
  const parts = [cs(portal, statement)];
  const int16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  parts.push(int16(formats.length), ...formats.map(int16), int16(values.length));
  for (const value of values) {
    const length = Buffer.alloc(4);
    length.writeInt32BE(value === null ? -1 : value.length);
    parts.push(length, ...(value === null ? [] : [value]));
  }
  parts.push(int16(0));
  return Buffer.concat(parts);
}

const ready = (status: string): Buffer => Buffer.from(status);

describe('StatementTracker', () => {
  it('pairs each statement of a multi-statement simple query with its CommandComplete', () => {
    const { tracker, results } = track();
    tracker.fromClient(ch('Q'), cs('SELECT 1; INSERT INTO t VALUES (1); CREATE TABLE x (a int)'));
    tracker.fromBackend(ch('T'), undefined);
    tracker.fromBackend(ch('C'), cs('SELECT 1'));
    tracker.fromBackend(ch('C'), cs('INSERT 0 1'));
    tracker.fromBackend(ch('C'), cs('CREATE TABLE'));
    tracker.fromBackend(ch('Z'), undefined);
    assert.deepEqual(
      results.map((r) => [r.info.text, r.info.class, r.outcome, r.rows, r.error]),
      [
        ['SELECT 1', 'READ', 'SELECT 1', 1, false],
        ['INSERT INTO t VALUES (1)', 'WRITE', 'INSERT 0 1', 1, false],
        ['CREATE TABLE x (a int)', 'DDL', 'CREATE TABLE', null, false],
      ],
    );
    assert.deepEqual(
      results.map((r) => r.statementId),
      [1, 2, 3],
    );
  });

  it('records the failing statement of a simple query with its SQLSTATE, and not the ones after it', () => {
    const { tracker, results } = track();
    tracker.fromClient(ch('Q'), cs('SELECT 1; SELECT nope; SELECT 3'));
    tracker.fromBackend(ch('C'), cs('SELECT 1'));
    tracker.fromBackend(ch('E'), error('42703'));
    tracker.fromBackend(ch('Z'), undefined);
    assert.deepEqual(
      results.map((r) => [r.info.text, r.outcome, r.error]),
      [
        ['SELECT 1', 'SELECT 1', false],
        ['SELECT nope', '42703', true],
      ],
    );
  });

  it('records every execution of a prepared statement (extended protocol)', () => {
    const { tracker, results } = track();
    tracker.fromClient(ch('P'), cs('s1', 'INSERT INTO t VALUES ($1)'));
    tracker.fromClient(ch('S'), undefined);
    tracker.fromBackend(ch('1'), undefined);
    tracker.fromBackend(ch('Z'), undefined);
    for (let i = 0; i < 3; i++) {
      tracker.fromClient(ch('B'), cs('', 's1'));
      tracker.fromClient(ch('E'), Buffer.concat([cs(''), Buffer.alloc(4)]));
      tracker.fromClient(ch('S'), undefined);
      tracker.fromBackend(ch('2'), undefined);
      tracker.fromBackend(ch('C'), cs('INSERT 0 1'));
      tracker.fromBackend(ch('Z'), undefined);
    }
    assert.equal(results.length, 3);
    for (const r of results) {
      assert.equal(r.protocol, 'extended');
      assert.equal(r.statementName, 's1');
      assert.equal(r.info.class, 'WRITE');
      assert.equal(r.outcome, 'INSERT 0 1');
    }
  });

  it('after an extended-protocol error, skips to Sync like the backend', () => {
    const { tracker, results } = track();
    // Pipeline: two statements in one Sync; the first fails, the second is never executed.
    tracker.fromClient(ch('P'), cs('', 'SELECT nope'));
    tracker.fromClient(ch('B'), cs('', ''));
    tracker.fromClient(ch('E'), Buffer.concat([cs(''), Buffer.alloc(4)]));
    tracker.fromClient(ch('P'), cs('', 'SELECT 2'));
    tracker.fromClient(ch('B'), cs('', ''));
    tracker.fromClient(ch('E'), Buffer.concat([cs(''), Buffer.alloc(4)]));
    tracker.fromClient(ch('S'), undefined);
    tracker.fromBackend(ch('E'), error('42703'));
    tracker.fromBackend(ch('Z'), undefined);
    // The next round works normally.
    tracker.fromClient(ch('Q'), cs('SELECT 5'));
    tracker.fromBackend(ch('C'), cs('SELECT 1'));
    tracker.fromBackend(ch('Z'), undefined);
    assert.deepEqual(
      results.map((r) => [r.info.text, r.outcome]),
      [
        ['SELECT nope', '42703'],
        ['SELECT 5', 'SELECT 1'],
      ],
    );
  });

  it('records COPY with its row count', () => {
    const { tracker, results } = track();
    tracker.fromClient(ch('Q'), cs('COPY t FROM STDIN'));
    tracker.fromBackend(ch('C'), cs('COPY 42'));
    tracker.fromBackend(ch('Z'), undefined);
    assert.equal(results[0]?.rows, 42);
    assert.equal(results[0]?.info.class, 'WRITE');
  });

  it('measures durations from the request to its answer', () => {
    const { tracker, results } = track();
    tracker.fromClient(ch('Q'), cs('SELECT 1'));
    tracker.fromBackend(ch('C'), cs('SELECT 1'));
    tracker.fromBackend(ch('Z'), undefined);
    assert.equal(results[0]?.durationMs, 10);
  });

  it('captures bound parameters only when asked: text as sent, binary as hex, NULL as null', () => {
    for (const captureParameters of [false, true]) {
      const { tracker, results } = track({ captureParameters });
      tracker.fromClient(ch('P'), cs('s1', 'INSERT INTO t VALUES ($1, $2, $3)', ''));
      tracker.fromClient(
        ch('B'),
        bind('', 's1', [0, 1, 0], [Buffer.from('héllo'), Buffer.from([0xde, 0xad]), null]),
      );
      tracker.fromClient(ch('E'), cs(''));
      tracker.fromClient(ch('S'), undefined);
      for (const m of ['1', '2']) tracker.fromBackend(ch(m), undefined);
      tracker.fromBackend(ch('C'), cs('INSERT 0 1'));
      tracker.fromBackend(ch('Z'), ready('I'));
      assert.equal(results.length, 1);
      assert.deepEqual(
        results[0]?.parameters,
        captureParameters ? ['héllo', '\\xdead', null] : undefined,
      );
    }
  });

  it('cuts long parameter values and marks values cut off by the tap', () => {
    const { tracker, results } = track({ captureParameters: true });
    const long = Buffer.from('x'.repeat(5000));
    const body = bind('', '', [], [long, Buffer.from('tail')]);
    tracker.fromClient(ch('P'), cs('', 'SELECT $1, $2', ''));
    tracker.fromClient(ch('B'), body.subarray(0, 2000)); // the tap's cap
    tracker.fromClient(ch('E'), cs(''));
    tracker.fromClient(ch('S'), undefined);
    for (const m of ['1', '2']) tracker.fromBackend(ch(m), undefined);
    tracker.fromBackend(ch('C'), cs('SELECT 1'));
    tracker.fromBackend(ch('Z'), ready('I'));
    assert.deepEqual(results[0]?.parameters, [`${'x'.repeat(1024)}…`]);
  });
});
