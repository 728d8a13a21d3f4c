import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadSqlParser, parseStatements } from '../../../src/audit/classify/pg-parser.js';
import { constantValue } from '../../../src/detect/statement/constant-value.js';
import { StatementAnalyzer } from '../../../src/detect/statement/statement-analyzer.js';
import { redactedSql } from '../../../src/detect/statement/statement-evidence.js';

/** The shapes found in `sql`, sorted. */
function shapes(sql: string): string[] {
  return [...new StatementAnalyzer().facts(sql).injection].sort();
}

/** The value of the WHERE clause of `SELECT 1 WHERE <expr>`. */
function whereValue(expr: string): unknown {
  const [statement] = parseStatements(`SELECT 1 WHERE ${expr}`) ?? [];
  return constantValue(statement?.body.whereClause);
}

describe('SQL injection shapes', () => {
  before(() => loadSqlParser());

  it('evaluates constant expressions the way PostgreSQL does', () => {
    assert.equal(whereValue("'a'='a'"), true);
    assert.equal(whereValue("'a'='b'"), false);
    assert.equal(whereValue("1='1'"), true);
    assert.equal(whereValue('2>1'), true);
    assert.equal(whereValue('5-4=1'), true);
    assert.equal(whereValue('NOT false'), true);
    assert.equal(whereValue('NULL = NULL'), null);
    assert.equal(whereValue('NULL IS NULL'), true);
    assert.equal(whereValue("'x' IN ('a', 'x')"), true);
    assert.equal(whereValue('3 NOT BETWEEN 1 AND 5'), false);
    assert.equal(whereValue("'abc' LIKE 'a%'"), true);
    assert.equal(whereValue("'abc' NOT LIKE 'a_c'"), false);
    assert.equal(whereValue("'t'::boolean"), true);
    assert.equal(whereValue('x = 1 OR true'), true);
    assert.equal(whereValue('x = 1'), undefined);
    assert.equal(whereValue('1 = $1'), undefined);
  });

  it("leaves the query builders' idioms alone: WHERE 1=1 AND …, 1=0, 0 = 1, 1 != 1", () => {
    assert.deepEqual(shapes('SELECT * FROM t WHERE 1=1 AND a = 2'), []);
    assert.deepEqual(shapes('SELECT * FROM t WHERE 1=0'), []);
    assert.deepEqual(shapes('SELECT * FROM t WHERE 0 = 1'), []);
    assert.deepEqual(shapes('SELECT * FROM t WHERE a IN (NULL) AND (1 != 1)'), []);
    assert.deepEqual(shapes('SELECT * FROM t WHERE (a = 1 OR 1=0)'), [], 'an OR with a false arm');
  });

  it('finds a tautology only in a condition, and only an OR with a true arm', () => {
    assert.deepEqual(shapes('SELECT 1=1 OR true FROM t'), [], 'a select list is no condition');
    assert.deepEqual(shapes('SELECT * FROM t WHERE a = 1 OR b = 2'), []);
    assert.deepEqual(shapes('SELECT * FROM t JOIN u ON u.id = t.id OR 1=1'), ['tautology']);
    assert.deepEqual(shapes('SELECT a FROM t GROUP BY a HAVING count(*) > 1 OR 1=1'), [
      'tautology',
    ]);
    assert.deepEqual(shapes('UPDATE t SET a = 1 WHERE id = 5 OR 1=1'), ['tautology']);
    assert.deepEqual(shapes('DELETE FROM t WHERE id = 5 OR 2>1'), [
      'constant-comparison',
      'tautology',
    ]);
  });

  it('reads stacking from the tokens: after a string constant, not after a number', () => {
    assert.deepEqual(shapes("SELECT 1 FROM t WHERE a = 'x'; DELETE FROM t"), [
      'stacked-after-quote',
    ]);
    assert.deepEqual(shapes('SELECT 1 FROM t WHERE a = 5; DELETE FROM t'), []);
    assert.deepEqual(shapes("SELECT 'a;b' FROM t"), []);
    assert.deepEqual(shapes("SELECT 1 FROM t WHERE a = 'x' /* c */; DELETE FROM t"), [
      'stacked-after-quote',
    ]);
  });

  it('reads comment truncation from the tokens, not from text inside strings', () => {
    assert.deepEqual(shapes("SELECT 1 FROM t WHERE a = '--''x'"), []);
    assert.deepEqual(shapes('SELECT 1 FROM t -- the usual\nWHERE a = 1'), []);
    assert.deepEqual(shapes("SELECT 1 FROM t WHERE a = 'admin'--' AND b = 'x'"), [
      'comment-truncation',
    ]);
    assert.deepEqual(shapes('SELECT 1 FROM t WHERE a = 5--'), ['comment-truncation']);
  });

  it('leaves alone UNIONs of user tables, and of catalogs only', () => {
    assert.deepEqual(shapes('SELECT id FROM staff UNION SELECT id FROM contractors'), []);
    assert.deepEqual(shapes('SELECT relname FROM pg_class UNION SELECT typname FROM pg_type'), []);
    assert.deepEqual(shapes('SELECT name FROM users UNION SELECT usename FROM pg_user'), [
      'union-catalog',
    ]);
    assert.deepEqual(shapes('SELECT name FROM users UNION SELECT NULL'), ['union-null-probe']);
  });

  it('tells pg_sleep in a probe from pg_sleep on its own', () => {
    assert.deepEqual(shapes('SELECT pg_sleep(1)'), []);
    assert.deepEqual(shapes('SELECT * FROM pg_sleep(1)'), []);
    assert.deepEqual(shapes('SELECT CASE WHEN a > 0 THEN pg_sleep(1) END FROM t'), ['time-based']);
    assert.deepEqual(shapes('SELECT 1; SELECT pg_sleep(5)'), ['time-based']);
  });

  it('tells error-based casts from the casts applications write', () => {
    assert.deepEqual(shapes("SELECT current_setting('server_version_num')::int"), []);
    assert.deepEqual(
      shapes("SELECT id FROM t WHERE org = (SELECT current_setting('app.org'))::bigint"),
      [],
    );
    assert.deepEqual(shapes('SELECT (SELECT count(*) FROM t)::int'), []);
    assert.deepEqual(shapes('SELECT id FROM t WHERE n > (SELECT max(n) FROM u)::int'), []);
    assert.deepEqual(shapes('SELECT id FROM t WHERE total::int > 100'), []);
    assert.deepEqual(shapes('SELECT CAST(version() AS int)'), ['error-based-cast']);
    assert.deepEqual(shapes('SELECT id FROM t WHERE 1 = (SELECT name FROM u LIMIT 1)::int'), [
      'error-based-cast',
    ]);
  });

  it('tells a probe of the catalog from current_user in a row filter', () => {
    assert.deepEqual(shapes('SELECT id FROM docs WHERE owner = current_user'), []);
    assert.deepEqual(shapes('SELECT id FROM docs WHERE owner = (SELECT current_user)'), []);
    assert.deepEqual(
      shapes('SELECT * FROM information_schema.tables WHERE table_schema = current_schema()'),
      [],
    );
    assert.deepEqual(shapes("SELECT id FROM docs WHERE substr(version(), 1, 1) = 'P'"), [
      'catalog-probe',
    ]);
  });

  it('parses a text once, and a long one only when its words outside string constants ask for it', () => {
    const analyzer = new StatementAnalyzer();
    const attack = "SELECT 1 FROM t WHERE a = '' OR 'x'='x'";
    analyzer.facts(attack);
    analyzer.facts(`${attack} `);
    analyzer.facts(attack);
    assert.deepEqual(analyzer.stats, { skipped: 0, parsed: 2, cached: 1 });
    const values = Array.from({ length: 400 }, (_, i) => `(${i}, 'this or that')`).join(', ');
    analyzer.facts(`INSERT INTO t (a, b) VALUES ${values}`);
    assert.equal(analyzer.stats.parsed, 2, 'the ORs are all inside string constants');
    analyzer.facts(`INSERT INTO t (a, b) VALUES ${values}; DROP TABLE t`);
    assert.equal(analyzer.stats.parsed, 3);
  });

  it('parses each shape once when only constants change, unless a constant decided the verdict', () => {
    const analyzer = new StatementAnalyzer();
    const order = (status: string, customer: number): string =>
      `SELECT id FROM shop_order WHERE (status = '${status}' OR customer_id = ${customer}) LIMIT 21`;
    assert.equal(analyzer.facts(order('paid', 1)).injection.size, 0);
    assert.equal(analyzer.facts(order('shipped', 77)).injection.size, 0);
    assert.deepEqual(analyzer.stats, { skipped: 0, parsed: 1, cached: 1 });
    const probe = (value: number): string => `SELECT id FROM t WHERE a = 5 OR 1=${value}`;
    assert.deepEqual([...analyzer.facts(probe(0)).injection], []);
    assert.deepEqual([...analyzer.facts(probe(1)).injection], ['tautology']);
    assert.equal(analyzer.stats.parsed, 3);
  });

  it('shows the statement in evidence as the audit would: secrets redacted, the payload kept', () => {
    assert.equal(
      redactedSql("SELECT 1 FROM t WHERE a = '' OR 'x'='x'"),
      "SELECT 1 FROM t WHERE a = '' OR 'x'='x'",
    );
    assert.equal(
      redactedSql("SELECT 1; ALTER ROLE bob PASSWORD 'Secret-Pass-1'"),
      "SELECT 1; ALTER ROLE bob PASSWORD '<redacted>'",
    );
    assert.doesNotMatch(redactedSql("SELEC x PASSWORD 'Secret-Pass-1'"), /Secret/);
  });
});
