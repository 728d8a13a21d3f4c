import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { classifySqlUncached, SqlClassifier } from '../../../src/audit/classify/classify-sql.js';
import { literalKey } from '../../../src/audit/classify/literal-key.js';

describe('literalKey: a statement without its constants', () => {
  it('replaces numbers and strings, and keeps everything else as written', () => {
    const cases: Array<[string, string]> = [
      ['SELECT 1', 'SELECT 0'],
      ['UPDATE t SET a = a + -12.5e3 WHERE id = 1_000', 'UPDATE t SET a = a + -0 WHERE id = 0'],
      ['SELECT .5, 5., 0x1F, 0o17, 0b101', 'SELECT 0, 0, 0, 0, 0'],
      ["SELECT 'it''s', E'a\\'b', B'101', X'ff', N'n'", "SELECT '', '', '', '', ''"],
      ["SELECT $q$ has 'quotes' $q$, $$x$$", "SELECT '', ''"],
      [
        'SELECT "Col 1", t1.c2, a$b FROM "t""x" WHERE x = $1',
        'SELECT "Col 1", t1.c2, a$b FROM "t""x" WHERE x = $1',
      ],
      ["SELECT 1 -- it's 2\n, /* '3' /* 4 */ */ 5", "SELECT 0 -- it's 2\n, /* '3' /* 4 */ */ 0"],
      ["SELECT interval '1 day', date '2020-01-01'", "SELECT interval '', date ''"],
    ];
    for (const [sql, key] of cases) assert.equal(literalKey(sql), key, sql);
  });

  it('gives up where the text is not plainly read', () => {
    for (const sql of [
      "SELECT 'a\\'b'", // depends on standard_conforming_strings
      "SELECT U&'d\\0061t'",
      "SELECT 'unterminated",
      'SELECT "unterminated',
      'SELECT 1 /* unterminated',
      'SELECT $tag$ unterminated',
      'SELECT 1abc',
      'SELECT 1.2.3',
      'SELECT $1a',
    ]) {
      assert.equal(literalKey(sql), undefined, sql);
    }
  });
});

describe('classification cached by shape', () => {
  let classifier: SqlClassifier;
  before(async () => {
    classifier = await SqlClassifier.create();
  });

  const pairs: Array<[warm: string, probe: string]> = [
    [
      'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 2;',
      'UPDATE pgbench_accounts SET abalance = abalance + -4821 WHERE aid = 99;',
    ],
    [
      'SELECT abalance FROM pgbench_accounts WHERE aid = 1',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 77',
    ],
    ["INSERT INTO s.t (a, b) VALUES (1, 'x')", "INSERT INTO s.t (a, b) VALUES (2, 'y''z')"],
    ['DELETE FROM t WHERE note = $$a$$', 'DELETE FROM t WHERE note = $$b$$'],
    ['SELECT f(1) FROM t WHERE a = 1', 'SELECT f(2) FROM t WHERE a = 2'],
    ["SELECT 'plain'", "SELECT 'host=h password=secret'"],
    [
      'EXPLAIN (ANALYZE 0) DELETE FROM t WHERE a = 1',
      'EXPLAIN (ANALYZE 1) DELETE FROM t WHERE a = 1',
    ],
    ["SET application_name = 'a'", "SET role = 'b'"],
    ['SELECT 1 INTO newt', 'SELECT 2 INTO newt'],
    ['SELECT 1; SELECT 2', 'SELECT 3; DELETE FROM t'],
  ];

  it('classifies every statement exactly as a fresh parse would', () => {
    for (const [warm, probe] of pairs) {
      classifier.classify(warm);
      const cached = classifier.classify(probe).map((s) => ({ ...s }));
      const fresh = classifySqlUncached(probe).map((s) => ({ ...s }));
      assert.deepEqual(cached, fresh, probe);
    }
  });

  it('serves a new constant from the shape cache, and a secret never from it', () => {
    const before_ = classifier.shapeEntries;
    classifier.classify('SELECT abalance FROM pgbench_accounts WHERE aid = 424242');
    assert.equal(classifier.shapeEntries, before_, 'no new shape for a known one');
    const [secret] = classifier.classify("SELECT 'host=h password=hunter2'");
    assert.equal(secret?.sensitive, true);
    assert.doesNotMatch(secret?.redactedText ?? '', /hunter2/);
  });
});
