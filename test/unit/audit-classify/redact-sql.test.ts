import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SqlClassifier } from '../../../src/audit/classify/classify-sql.js';
import { redactQuotedLiterals, redactSql } from '../../../src/audit/classify/redact-sql.js';

let classifier: SqlClassifier;

before(async () => {
  classifier = await SqlClassifier.create({ cacheSize: 0 });
});

function only(sql: string) {
  const entries = classifier.classify(sql);
  assert.equal(entries.length, 1, `one statement expected in ${sql}`);
  const [entry] = entries;
  assert.ok(entry);
  return entry;
}

/** An SQL literal the way a client would write it (E'' when it holds a backslash). */
function literal(value: string): string {
  const body = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`;
}

interface SecretCase {
  readonly sql: string;
  readonly secrets: readonly string[];
  readonly parsed: boolean;
}

const SECRET_CASES: readonly SecretCase[] = [
  { sql: "CREATE ROLE a PASSWORD 'hunter2'", secrets: ['hunter2'], parsed: true },
  { sql: "CREATE USER a WITH LOGIN PASSWORD 'hunter2'", secrets: ['hunter2'], parsed: true },
  {
    sql: "ALTER ROLE a WITH ENCRYPTED PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'",
    secrets: ['SCRAM-SHA-256', '4096:abc', 'def:ghi'],
    parsed: true,
  },
  { sql: "ALTER USER a PASSWORD 'x''y'", secrets: ['x', 'y'], parsed: true },
  { sql: "ALTER USER a PASSWORD E'p\\'w'", secrets: ['p\\', "'w"], parsed: true },
  { sql: "ALTER USER a PASSWORD U&'s\\0065cret'", secrets: ['s\\0065cret'], parsed: true },
  {
    sql: "CREATE SUBSCRIPTION s CONNECTION 'host=h password=pw' PUBLICATION p",
    secrets: ['host=h', 'password=pw'],
    parsed: true,
  },
  {
    sql: "ALTER SUBSCRIPTION s CONNECTION 'host=h password=pw2'",
    secrets: ['password=pw2'],
    parsed: true,
  },
  {
    sql: "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'bob', password 'pw')",
    secrets: ['bob', "'pw'"],
    parsed: true,
  },
  {
    sql: "ALTER USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (SET password 'pw3')",
    secrets: ['pw3'],
    parsed: true,
  },
  {
    sql: "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.internal', sslkey 'k')",
    secrets: ['db.internal', "'k'"],
    parsed: true,
  },
  { sql: 'ALTER ROLE a PASSWORD $x$secret$x$', secrets: ['secret'], parsed: true },
  { sql: 'ALTER ROLE a PASSWORD $$secret$$', secrets: ['secret'], parsed: true },
  { sql: `ALTER ROLE "ü" PASSWORD 'secret'`, secrets: ['secret'], parsed: true },
  { sql: `ALTER ROLE "日本🙂" PASSWORD 'secret'`, secrets: ['secret'], parsed: true },
  {
    sql: "SELECT dblink_connect('host=h user=u password=pw4')",
    secrets: ['pw4'],
    parsed: true,
  },
  {
    sql: "DO $$ BEGIN EXECUTE 'ALTER ROLE a PASSWORD ''pw5'''; END $$",
    secrets: ['pw5'],
    parsed: true,
  },
  // Rejected by the parser: redacted conservatively.
  { sql: "ALTER ROLE a PASSWORD 'secret", secrets: ['secret'], parsed: false },
  { sql: 'ALTER ROLE a PASSWORD hunter2', secrets: ['hunter2'], parsed: false },
  { sql: "ALTER ROLE a PASSWORD 'secret' garbage", secrets: ['secret'], parsed: false },
  { sql: 'ALTER ROLE a PASSWORD $q$secret', secrets: ['secret'], parsed: false },
  {
    sql: "CREATE SUBSCRIPTION s CONNECTION 'password=pw6' PUBLICATION",
    secrets: ['pw6'],
    parsed: false,
  },
  { sql: "ALTER ROLE a PASSWORD /* 'secret'", secrets: ['secret'], parsed: false },
];

describe('redaction of secrets', () => {
  for (const c of SECRET_CASES) {
    it(`redacts ${c.sql}`, () => {
      const entry = only(c.sql);
      assert.equal(entry.class === 'UNKNOWN', !c.parsed, 'parsed as expected');
      assert.equal(entry.sensitive, true);
      for (const secret of c.secrets) {
        assert.ok(
          !entry.redactedText.includes(secret),
          `${JSON.stringify(secret)} leaks in ${entry.redactedText}`,
        );
      }
      assert.ok(entry.redactedText.includes('<redacted>'));
    });
  }

  it('keeps the statement readable: only the literals change', () => {
    assert.equal(
      only(`ALTER ROLE "ü" PASSWORD 'secret'`).redactedText,
      `ALTER ROLE "ü" PASSWORD '<redacted>'`,
    );
    assert.equal(
      only("CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'bob', password 'pw')").redactedText,
      "CREATE USER MAPPING FOR u SERVER s OPTIONS (user '<redacted>', password '<redacted>')",
    );
    assert.equal(
      only("ALTER ROLE a PASSWORD 'x''y' VALID UNTIL '2030-01-01'").redactedText,
      "ALTER ROLE a PASSWORD '<redacted>' VALID UNTIL '<redacted>'",
    );
  });

  it('keeps the text of the secret in `text` (it is the raw statement)', () => {
    assert.equal(only("CREATE ROLE a PASSWORD 'hunter2'").text, "CREATE ROLE a PASSWORD 'hunter2'");
  });

  it('redacts only the sensitive statement of a multi-statement string', () => {
    const entries = classifier.classify(
      "SELECT 'keep'; ALTER ROLE \"ü\" PASSWORD 'secret'; SELECT 'also kept'",
    );
    assert.deepEqual(
      entries.map((e) => [e.redactedText, e.sensitive]),
      [
        ["SELECT 'keep'", false],
        ['ALTER ROLE "ü" PASSWORD \'<redacted>\'', true],
        ["SELECT 'also kept'", false],
      ],
    );
  });

  it('leaves non-sensitive statements and their literals alone', () => {
    for (const sql of [
      "SELECT 'hello'",
      "INSERT INTO users (name) VALUES ('alice')",
      "ALTER ROLE a SET search_path = 'x'",
      "CREATE ROLE a LOGIN VALID UNTIL 'infinity'",
      "SELECT * FROM users WHERE password_hash = 'abc'",
    ]) {
      const entry = only(sql);
      assert.equal(entry.sensitive, false, sql);
      assert.equal(entry.redactedText, sql);
    }
  });

  it('marks unparsable SQL sensitive only when it mentions a secret-bearing keyword', () => {
    const plain = only("SELEC 'hello'");
    assert.equal(plain.sensitive, false);
    assert.equal(plain.redactedText, "SELEC '<redacted>'");
    assert.equal(only("CREATE SERVER s OPTIONS (password 'x'").sensitive, true);
  });

  it('redacts any password literal, whatever its characters (property)', () => {
    const secret = fc.string({ unit: 'binary', minLength: 1 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(secret, (value) => {
        const entry = only(`ALTER ROLE a PASSWORD ${literal(value)}`);
        assert.equal(entry.class, 'ROLE');
        assert.equal(entry.redactedText, "ALTER ROLE a PASSWORD '<redacted>'");
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a quoted literal through the conservative lexer (property)', () => {
    const body = fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(body, body, (prefix, value) => {
        const marker = 'Zq9';
        const sql = `${prefix.replace(/['"$\\/*-]/g, ' ')} ${literal(marker + value)} ...`;
        assert.ok(!redactQuotedLiterals(sql).includes(marker), sql);
      }),
      { numRuns: 300 },
    );
  });
});

describe('redactSql', () => {
  it('redacts the sensitive statements of a whole SQL string in place', () => {
    assert.equal(
      redactSql("SELECT 'a'; ALTER ROLE \"ü\" PASSWORD 'secret'; SELECT 'b'"),
      "SELECT 'a'; ALTER ROLE \"ü\" PASSWORD '<redacted>'; SELECT 'b'",
    );
  });

  it('falls back to conservative redaction for SQL the parser rejects', () => {
    assert.equal(redactSql("ALTER ROLE a PASSWORD 'secret"), 'ALTER ROLE a PASSWORD <redacted>');
    assert.equal(redactSql("SELEC 'x'"), "SELEC '<redacted>'");
  });

  it('leaves other SQL untouched', () => {
    assert.equal(redactSql("SELECT 'hello'"), "SELECT 'hello'");
    assert.equal(redactSql(''), '');
  });
});

describe('redactQuotedLiterals', () => {
  it('follows PostgreSQL quoting rules', () => {
    assert.equal(redactQuotedLiterals("a 'x''y' b"), "a '<redacted>' b");
    assert.equal(redactQuotedLiterals("a E'x\\'y' b"), "a E'<redacted>' b");
    assert.equal(redactQuotedLiterals("a 'x\\' b 'c'"), "a '<redacted>' b '<redacted>'");
    assert.equal(redactQuotedLiterals('a $t$x$$y$t$ b'), "a '<redacted>' b");
    assert.equal(redactQuotedLiterals('a$b$ c'), 'a$b$ c');
    assert.equal(redactQuotedLiterals("\"it's\" -- don't\n'x'"), "\"it's\" -- don't\n'<redacted>'");
    assert.equal(redactQuotedLiterals("/* it's */ 'x'"), "/* it's */ '<redacted>'");
  });

  it('redacts to the end when a literal is not terminated', () => {
    assert.equal(redactQuotedLiterals("a 'secret"), "a '<redacted>'");
    assert.equal(redactQuotedLiterals('a $$secret'), "a '<redacted>'");
    assert.equal(redactQuotedLiterals("a /* 'secret'"), 'a /* <redacted>');
  });
});
