import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SqlClassifier } from '../../../src/audit/classify/classify-sql.js';
import {
  type StatementResult,
  StatementTracker,
} from '../../../src/audit/tap/statement-tracker.js';

const cs = (...parts: string[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(`${p}\0`)));
const ch = (c: string): number => c.charCodeAt(0);
const errorBody = Buffer.concat([
  Buffer.from('SERROR\0C22012\0Mdivision by zero\0'),
  Buffer.from([0]),
]);

/**
 * Drives a tracker with the real classifier: each step is a simple query, the
 * command tags the server answered (or 'error' for an ErrorResponse), and the
 * ReadyForQuery status. Returns the role each statement was recorded with.
 */
function roles(
  classifier: SqlClassifier,
  steps: Array<[sql: string, answers: string[], status: 'I' | 'T' | 'E']>,
  extra?: (tracker: StatementTracker, step: number) => void,
): string[] {
  const results: StatementResult[] = [];
  const tracker = new StatementTracker(
    (sql) => classifier.classify(sql),
    (r) => results.push(r),
    { sessionUser: 'alice' },
  );
  for (const [step, [sql, answers, status]] of steps.entries()) {
    tracker.fromClient(ch('Q'), cs(sql));
    for (const answer of answers) {
      if (answer === 'error') tracker.fromBackend(ch('E'), errorBody);
      else tracker.fromBackend(ch('C'), cs(answer));
    }
    tracker.fromBackend(ch('Z'), Buffer.from(status));
    extra?.(tracker, step);
  }
  return results.map((r) => r.role);
}

describe('the effective role (SET ROLE) in statement records', () => {
  let classifier: SqlClassifier;
  before(async () => {
    classifier = await SqlClassifier.create();
  });

  it('follows SET ROLE, SET ROLE NONE and RESET ROLE; the SET itself runs as the old role', () => {
    assert.deepEqual(
      roles(classifier, [
        ['SELECT 1', ['SELECT 1'], 'I'],
        ['SET ROLE "Report Reader"', ['SET'], 'I'],
        ['SELECT 2', ['SELECT 1'], 'I'],
        ['SET ROLE NONE', ['SET'], 'I'],
        ['SELECT 3', ['SELECT 1'], 'I'],
        ['SET SESSION ROLE bob', ['SET'], 'I'],
        ['RESET ROLE', ['RESET'], 'I'],
        ['SELECT 4', ['SELECT 1'], 'I'],
      ]),
      ['alice', 'alice', 'Report Reader', 'Report Reader', 'alice', 'alice', 'bob', 'alice'],
    );
  });

  it('undoes SET ROLE when its transaction rolls back, explicitly or by an error', () => {
    assert.deepEqual(
      roles(classifier, [
        ['BEGIN', ['BEGIN'], 'T'],
        ['SET ROLE bob', ['SET'], 'T'],
        ['SELECT 1', ['SELECT 1'], 'T'],
        ['ROLLBACK', ['ROLLBACK'], 'I'],
        ['SELECT 2', ['SELECT 1'], 'I'],
        // One implicit transaction: the error rolls the SET back.
        ['SET ROLE bob; SELECT 1/0', ['SET', 'error'], 'I'],
        ['SELECT 3', ['SELECT 1'], 'I'],
        // COMMIT of a failed transaction answers ROLLBACK.
        ['BEGIN; SET ROLE bob', ['BEGIN', 'SET'], 'T'],
        ['SELECT 1/0', ['error'], 'E'],
        ['COMMIT', ['ROLLBACK'], 'I'],
        ['SELECT 4', ['SELECT 1'], 'I'],
      ]),
      // The statement that fails after SET ROLE ran as the new role; the next does not.
      // biome-ignore format: one role per statement
      ['alice', 'alice', 'bob', 'bob', 'alice', 'alice', 'bob', 'alice', 'alice', 'alice', 'bob', 'bob', 'alice'],
    );
  });

  it('keeps SET ROLE after COMMIT, and SET LOCAL ROLE only until the transaction ends', () => {
    assert.deepEqual(
      roles(classifier, [
        ['BEGIN', ['BEGIN'], 'T'],
        ['SET LOCAL ROLE carol', ['SET'], 'T'],
        ['SELECT 1', ['SELECT 1'], 'T'],
        ['COMMIT', ['COMMIT'], 'I'],
        ['SELECT 2', ['SELECT 1'], 'I'],
        ['SET LOCAL ROLE carol', ['SET'], 'I'], // outside a block: only a warning
        ['SELECT 3', ['SELECT 1'], 'I'],
        ['BEGIN; SET ROLE bob; COMMIT', ['BEGIN', 'SET', 'COMMIT'], 'I'],
        ['SELECT 4', ['SELECT 1'], 'I'],
        ['DISCARD ALL', ['DISCARD ALL'], 'I'],
        ['SELECT 5', ['SELECT 1'], 'I'],
      ]),
      // biome-ignore format: one role per statement
      ['alice', 'alice', 'carol', 'carol', 'alice', 'alice', 'alice', 'alice', 'alice', 'bob', 'bob', 'bob', 'alice'],
    );
  });

  it('a ROLLBACK TO SAVEPOINT does not end the transaction', () => {
    assert.deepEqual(
      roles(classifier, [
        ['BEGIN; SET ROLE bob; SAVEPOINT s', ['BEGIN', 'SET', 'SAVEPOINT'], 'T'],
        ['ROLLBACK TO SAVEPOINT s', ['ROLLBACK'], 'T'],
        ['COMMIT', ['COMMIT'], 'I'],
        ['SELECT 1', ['SELECT 1'], 'I'],
      ]),
      ['alice', 'alice', 'bob', 'bob', 'bob', 'bob'],
    );
  });

  it('takes SET SESSION AUTHORIZATION from the ParameterStatus the server reports', () => {
    const seen = roles(
      classifier,
      [
        ['SET ROLE bob', ['SET'], 'I'],
        ['SET SESSION AUTHORIZATION dave', ['SET'], 'I'],
        ['SELECT 1', ['SELECT 1'], 'I'],
      ],
      (tracker, step) => {
        if (step === 1) {
          tracker.fromBackend(ch('S'), cs('session_authorization', 'dave'));
        }
      },
    );
    assert.deepEqual(seen, ['alice', 'bob', 'dave']);
  });
});
