import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { before, describe, it } from 'node:test';
import type { AuditClass } from '../../../src/audit/classify/audit-class.js';
import { SqlClassifier } from '../../../src/audit/classify/classify-sql.js';

let classifier: SqlClassifier;

before(async () => {
  classifier = await SqlClassifier.create();
});

function only(sql: string) {
  const entries = classifier.classify(sql);
  assert.equal(entries.length, 1, `one statement expected in ${sql}`);
  const [entry] = entries;
  assert.ok(entry);
  return entry;
}

interface Case {
  readonly sql: string;
  readonly class: AuditClass;
  readonly tag: string;
  readonly objects: readonly string[];
}

const CASES: readonly Case[] = [
  { sql: 'SELECT * FROM s.t JOIN u ON true', class: 'READ', tag: 'SELECT', objects: ['s.t', 'u'] },
  { sql: 'SELECT f()', class: 'READ', tag: 'SELECT', objects: [] },
  { sql: 'INSERT INTO t VALUES (1)', class: 'WRITE', tag: 'INSERT', objects: ['t'] },
  { sql: 'UPDATE s.t SET a = 1 FROM u', class: 'WRITE', tag: 'UPDATE', objects: ['s.t', 'u'] },
  { sql: 'DELETE FROM t USING u', class: 'WRITE', tag: 'DELETE', objects: ['t', 'u'] },
  { sql: 'TRUNCATE a, b', class: 'WRITE', tag: 'TRUNCATE TABLE', objects: ['a', 'b'] },
  {
    sql: 'MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE',
    class: 'WRITE',
    tag: 'MERGE',
    objects: ['t', 's'],
  },
  { sql: 'COPY t FROM STDIN', class: 'WRITE', tag: 'COPY', objects: ['t'] },
  { sql: 'COPY t TO STDOUT', class: 'READ', tag: 'COPY', objects: ['t'] },
  { sql: 'COPY (SELECT 1) TO STDOUT', class: 'READ', tag: 'COPY', objects: [] },
  { sql: 'CALL p()', class: 'FUNCTION', tag: 'CALL', objects: ['p'] },
  { sql: 'CALL s.p(f())', class: 'FUNCTION', tag: 'CALL', objects: ['s.p', 'f'] },
  { sql: 'DO $$ BEGIN END $$', class: 'FUNCTION', tag: 'DO', objects: [] },
  { sql: 'GRANT SELECT ON t TO r', class: 'ROLE', tag: 'GRANT', objects: ['t', 'r'] },
  {
    sql: 'REVOKE ALL ON s.t FROM PUBLIC',
    class: 'ROLE',
    tag: 'REVOKE',
    objects: ['s.t', 'PUBLIC'],
  },
  { sql: 'GRANT r1 TO u1', class: 'ROLE', tag: 'GRANT ROLE', objects: ['r1', 'u1'] },
  { sql: 'CREATE USER u', class: 'ROLE', tag: 'CREATE ROLE', objects: ['u'] },
  { sql: 'ALTER GROUP g ADD USER u', class: 'ROLE', tag: 'ALTER ROLE', objects: ['g', 'u'] },
  { sql: 'DROP ROLE a, b', class: 'ROLE', tag: 'DROP ROLE', objects: ['a', 'b'] },
  { sql: 'ALTER ROLE a RENAME TO b', class: 'ROLE', tag: 'ALTER ROLE', objects: ['a', 'b'] },
  {
    sql: 'ALTER DEFAULT PRIVILEGES FOR ROLE a GRANT SELECT ON TABLES TO b',
    class: 'ROLE',
    tag: 'ALTER DEFAULT PRIVILEGES',
    objects: ['a', 'b'],
  },
  { sql: 'CREATE TABLE x (a int)', class: 'DDL', tag: 'CREATE TABLE', objects: ['x'] },
  {
    sql: 'CREATE TABLE s.x (a int REFERENCES y)',
    class: 'DDL',
    tag: 'CREATE TABLE',
    objects: ['s.x', 'y'],
  },
  { sql: 'CREATE INDEX i ON s.t (a)', class: 'DDL', tag: 'CREATE INDEX', objects: ['i', 's.t'] },
  {
    sql: 'CREATE VIEW v AS SELECT * FROM t',
    class: 'DDL',
    tag: 'CREATE VIEW',
    objects: ['v', 't'],
  },
  { sql: 'DROP TABLE a, s.b CASCADE', class: 'DDL', tag: 'DROP TABLE', objects: ['a', 's.b'] },
  { sql: 'DROP INDEX i', class: 'DDL', tag: 'DROP INDEX', objects: ['i'] },
  { sql: 'DROP TRIGGER trg ON s.t', class: 'DDL', tag: 'DROP TRIGGER', objects: ['trg', 's.t'] },
  { sql: 'DROP FUNCTION f(int), g', class: 'DDL', tag: 'DROP FUNCTION', objects: ['f', 'g'] },
  { sql: 'ALTER TABLE t ADD COLUMN b int', class: 'DDL', tag: 'ALTER TABLE', objects: ['t'] },
  { sql: 'ALTER TABLE t RENAME COLUMN a TO b', class: 'DDL', tag: 'ALTER TABLE', objects: ['t'] },
  {
    sql: 'CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
    class: 'DDL',
    tag: 'CREATE FUNCTION',
    objects: ['s.f'],
  },
  {
    sql: 'CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$',
    class: 'DDL',
    tag: 'CREATE PROCEDURE',
    objects: ['p'],
  },
  { sql: 'CREATE SCHEMA s', class: 'DDL', tag: 'CREATE SCHEMA', objects: ['s'] },
  { sql: 'SELECT 1 INTO nt FROM src', class: 'DDL', tag: 'SELECT INTO', objects: ['nt', 'src'] },
  {
    sql: 'CREATE MATERIALIZED VIEW mv AS SELECT * FROM t',
    class: 'DDL',
    tag: 'CREATE MATERIALIZED VIEW',
    objects: ['t', 'mv'],
  },
  { sql: "ALTER SYSTEM SET work_mem = '1MB'", class: 'DDL', tag: 'ALTER SYSTEM', objects: [] },
  { sql: 'SET search_path = x', class: 'MISC_SET', tag: 'SET', objects: [] },
  { sql: 'SET ROLE r', class: 'MISC_SET', tag: 'SET', objects: [] },
  { sql: 'RESET ALL', class: 'MISC_SET', tag: 'RESET', objects: [] },
  { sql: 'VACUUM t', class: 'MISC', tag: 'VACUUM', objects: ['t'] },
  { sql: 'ANALYZE s.t', class: 'MISC', tag: 'ANALYZE', objects: ['s.t'] },
  { sql: 'BEGIN', class: 'MISC', tag: 'BEGIN', objects: [] },
  { sql: 'START TRANSACTION', class: 'MISC', tag: 'START TRANSACTION', objects: [] },
  { sql: 'COMMIT', class: 'MISC', tag: 'COMMIT', objects: [] },
  { sql: 'ROLLBACK TO SAVEPOINT a', class: 'MISC', tag: 'ROLLBACK', objects: [] },
  { sql: 'SAVEPOINT a', class: 'MISC', tag: 'SAVEPOINT', objects: [] },
  { sql: 'CHECKPOINT', class: 'MISC', tag: 'CHECKPOINT', objects: [] },
  { sql: 'DISCARD ALL', class: 'MISC', tag: 'DISCARD ALL', objects: [] },
  { sql: 'LISTEN ch', class: 'MISC', tag: 'LISTEN', objects: [] },
  { sql: "NOTIFY ch, 'x'", class: 'MISC', tag: 'NOTIFY', objects: [] },
  { sql: 'LOCK TABLE t', class: 'MISC', tag: 'LOCK TABLE', objects: ['t'] },
  { sql: 'SHOW work_mem', class: 'MISC', tag: 'SHOW', objects: [] },
  { sql: 'FETCH NEXT FROM c', class: 'MISC', tag: 'FETCH', objects: [] },
  { sql: 'EXPLAIN SELECT * FROM t', class: 'MISC', tag: 'EXPLAIN', objects: ['t'] },
  { sql: 'EXPLAIN DELETE FROM t', class: 'MISC', tag: 'EXPLAIN', objects: ['t'] },
  { sql: 'EXECUTE p(1)', class: 'MISC', tag: 'EXECUTE', objects: [] },
  { sql: 'DEALLOCATE ALL', class: 'MISC', tag: 'DEALLOCATE ALL', objects: [] },
  { sql: 'PREPARE p AS SELECT * FROM t', class: 'READ', tag: 'PREPARE', objects: ['t'] },
  {
    sql: 'DECLARE c CURSOR FOR SELECT * FROM t',
    class: 'READ',
    tag: 'DECLARE CURSOR',
    objects: ['t'],
  },
  // Statements that write although their top level reads (departures from pgaudit, see audit-class.ts).
  { sql: 'PREPARE p AS INSERT INTO t VALUES (1)', class: 'WRITE', tag: 'PREPARE', objects: ['t'] },
  { sql: 'EXPLAIN ANALYZE DELETE FROM t', class: 'WRITE', tag: 'EXPLAIN', objects: ['t'] },
  { sql: 'EXPLAIN (ANALYZE false) DELETE FROM t', class: 'MISC', tag: 'EXPLAIN', objects: ['t'] },
  {
    sql: 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    class: 'WRITE',
    tag: 'SELECT',
    objects: ['t'],
  },
  {
    sql: 'COPY (INSERT INTO t VALUES (1) RETURNING *) TO STDOUT',
    class: 'WRITE',
    tag: 'COPY',
    objects: ['t'],
  },
];

describe('SqlClassifier: class, command tag and objects', () => {
  for (const c of CASES) {
    it(`${c.sql} → ${c.class} ${c.tag}`, () => {
      const entry = only(c.sql);
      assert.equal(entry.class, c.class);
      assert.equal(entry.commandTag, c.tag);
      assert.deepEqual(entry.objects, c.objects);
      assert.equal(entry.text, c.sql);
    });
  }

  it('does not report common table expressions as relations, following WITH scoping', () => {
    assert.deepEqual(only('WITH x AS (SELECT * FROM t) SELECT * FROM x, u').objects, ['t', 'u']);
    // Without RECURSIVE, a CTE's own name inside it is the table of that name.
    assert.deepEqual(only('WITH t AS (SELECT * FROM t) SELECT * FROM t').objects, ['t']);
    assert.deepEqual(only('WITH RECURSIVE r AS (SELECT * FROM r) SELECT * FROM r').objects, []);
    // A schema-qualified name is never a CTE.
    assert.deepEqual(only('WITH t AS (SELECT 1) SELECT * FROM s.t, t').objects, ['s.t']);
  });

  it('deduplicates objects and keeps their order of appearance', () => {
    assert.deepEqual(only('SELECT * FROM b, a, b WHERE EXISTS (SELECT 1 FROM c, a)').objects, [
      'b',
      'a',
      'c',
    ]);
  });
});

describe('SqlClassifier: multi-statement strings', () => {
  it('yields one entry per statement, each with its own trimmed text', () => {
    const entries = classifier.classify(
      "BEGIN;\n  INSERT INTO t VALUES ('ü');  SELECT * FROM t ;\n\tCOMMIT;  ",
    );
    assert.deepEqual(
      entries.map((e) => [e.text, e.class, e.commandTag]),
      [
        ['BEGIN', 'MISC', 'BEGIN'],
        ["INSERT INTO t VALUES ('ü')", 'WRITE', 'INSERT'],
        ['SELECT * FROM t', 'READ', 'SELECT'],
        ['COMMIT', 'MISC', 'COMMIT'],
      ],
    );
  });

  it('finds statement text by byte offsets even after multi-byte characters', () => {
    const entries = classifier.classify('SELECT \'日本語🙂\'; UPDATE "ü" SET a = 1; SELECT 2');
    assert.deepEqual(
      entries.map((e) => e.text),
      ["SELECT '日本語🙂'", 'UPDATE "ü" SET a = 1', 'SELECT 2'],
    );
    assert.deepEqual(entries[1]?.objects, ['ü']);
  });

  it('returns no entries for SQL that is only whitespace, comments or semicolons', () => {
    assert.deepEqual(classifier.classify(''), []);
    assert.deepEqual(classifier.classify('  ;\n ; '), []);
    assert.deepEqual(classifier.classify('-- nothing here\n/* nor here */'), []);
  });
});

describe('SqlClassifier: SQL the parser rejects', () => {
  it('yields a single UNKNOWN entry without throwing', () => {
    const entries = classifier.classify("SELEC * FROM t WHERE a = 'x'; SELECT 1");
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.equal(entry?.class, 'UNKNOWN');
    assert.equal(entry?.commandTag, 'UNKNOWN');
    assert.deepEqual(entry?.objects, []);
    assert.equal(entry?.text, "SELEC * FROM t WHERE a = 'x'; SELECT 1");
    assert.equal(entry?.redactedText, "SELEC * FROM t WHERE a = '<redacted>'; SELECT 1");
    assert.equal(entry?.sensitive, false);
  });

  it('treats text the parser cannot see whole (NUL, lone surrogates) as UNKNOWN', () => {
    assert.equal(only("SELECT 1\0; ALTER ROLE a PASSWORD 'x'").class, 'UNKNOWN');
    assert.equal(only('SELECT 1 AS "\uD800"').class, 'UNKNOWN');
  });

  it('never throws, whatever it is given', () => {
    const inputs: unknown[] = [
      '('.repeat(100_000),
      `SELECT ${'1+'.repeat(50_000)}1`,
      "'",
      '$$',
      "E'\\",
      '/*',
      '"',
      '\uFFFF\uFEFF',
      undefined,
      null,
      42,
    ];
    for (const input of inputs) {
      assert.doesNotThrow(() => classifier.classify(input as string));
    }
  });
});

describe('SqlClassifier: cache', () => {
  it('returns the very same frozen result for the same SQL', () => {
    const sql = 'SELECT * FROM cached_table';
    const first = classifier.classify(sql);
    const second = classifier.classify(sql);
    assert.equal(first, second);
    assert.ok(Object.isFrozen(first));
    assert.ok(Object.isFrozen(first[0]));
    assert.ok(Object.isFrozen(first[0]?.objects));
  });

  it('evicts the least recently used SQL beyond cacheSize', async () => {
    // Without constants, so the exact cache (not the shape cache) holds them.
    const small = await SqlClassifier.create({ cacheSize: 2 });
    const a = small.classify('SELECT a FROM t1');
    small.classify('SELECT a FROM t2');
    assert.equal(small.classify('SELECT a FROM t1'), a); // refreshes t1
    small.classify('SELECT a FROM t3'); // evicts t2
    assert.equal(small.cacheEntries, 2);
    assert.equal(small.classify('SELECT a FROM t1'), a);
  });

  it('can be disabled with cacheSize 0', async () => {
    const none = await SqlClassifier.create({ cacheSize: 0 });
    const first = none.classify('SELECT 1');
    assert.notEqual(none.classify('SELECT 1'), first);
    assert.deepEqual(none.classify('SELECT 1'), first);
    assert.equal(none.cacheEntries, 0);
  });

  it('stays fast on repeated SQL', (t) => {
    const sql = 'SELECT a, b FROM s.t JOIN u USING (id) WHERE a = $1 ORDER BY b LIMIT 10';
    const expected = classifier.classify(sql);
    const runs = 100_000;
    const started = performance.now();
    let last = expected;
    for (let i = 0; i < runs; i++) last = classifier.classify(sql);
    const elapsed = performance.now() - started;
    assert.deepEqual(last, expected); // a shape-cache hit (LIMIT 10 is a constant): equal, not shared
    t.diagnostic(
      `${runs} cached classifications in ${elapsed.toFixed(1)} ms (${((elapsed * 1e6) / runs).toFixed(0)} ns each)`,
    );
  });
});
