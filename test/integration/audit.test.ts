import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import postgres from 'postgres';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 4, "done when": a script of mixed statements through the gateway
 * gives the right audit records; secrets are redacted; `audit verify` passes
 * on the intact log and names a modified, a deleted and a reordered record.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

interface Rec {
  seq: number;
  event: string;
  code: number;
  class?: string;
  command?: string;
  statement?: string;
  outcome?: string;
  error?: boolean;
  rows?: number | null;
  objects?: string[];
  user?: string;
  protocol?: string;
  prepared?: string;
  session?: string;
  bytesIn?: number;
}

function readRecords(dir: string): Rec[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Rec),
    );
}

describe(`audit through the gateway (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const auditDir = (): string => join(server.dataDir, 'audit');
  let statements: Rec[] = [];

  before(async () => {
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(server.layout.configFile, 'audit:\n  log: [all]\n');
    await server.up();
    const client = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    await client.connect();
    try {
      await client.query('CREATE TABLE items (id int PRIMARY KEY, name text)'); // DDL
      await client.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')"); // WRITE
      await client.query('SELECT * FROM public.items'); // READ, schema-qualified
      await client.query("CREATE ROLE auditee LOGIN PASSWORD 'very-secret-password-1'"); // ROLE, redacted
      await client.query('GRANT SELECT ON items TO auditee'); // ROLE
      await client.query("SET application_name = 'audited'"); // MISC_SET
      await client.query('VACUUM items'); // MISC
      await client.query('DO $$ BEGIN PERFORM 1; END $$'); // FUNCTION
      await assert.rejects(client.query('SELECT * FROM no_such_table')); // failed: 42P01
      for (let i = 10; i < 13; i++) {
        await client.query({
          name: 'ins',
          text: 'INSERT INTO items VALUES ($1, $2)',
          values: [i, `n${i}`],
        });
      }
      await client.query(
        'SELECT 1 AS a; UPDATE items SET name = name; DELETE FROM items WHERE id = 12',
      );
    } finally {
      await client.end();
    }
    const sql = postgres({
      host: 'localhost',
      port: server.gatewayPort(),
      user: 'pgwarden',
      password: server.adminPassword(),
      database: 'postgres',
      ssl: { ca: readFileSync(server.caFile, 'utf8'), servername: 'localhost' },
      max: 1,
      onnotice: () => undefined,
    });
    try {
      const writable = await sql`COPY items (id, name) FROM STDIN`.writable();
      await new Promise<void>((resolve, reject) => {
        writable.on('finish', resolve).on('error', reject);
        writable.end('100\tcopied\n101\tcopied\n');
      });
    } finally {
      await sql.end();
    }
    // Records are written in batches, off the statement path: wait until the session's close is in.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const records = readRecords(auditDir());
      if (records.filter((r) => r.event === 'session.closed').length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    statements = readRecords(auditDir()).filter((r) => r.event === 'statement');
  });

  const find = (predicate: (r: Rec) => boolean, what: string): Rec => {
    const record = statements.find(predicate);
    assert.ok(
      record,
      `a record for ${what}; have: ${statements.map((r) => r.statement).join(' | ')}`,
    );
    return record;
  };

  it('records one statement of each class with its command and outcome', () => {
    assert.equal(find((r) => r.command === 'CREATE TABLE', 'CREATE TABLE').class, 'DDL');
    const insert = find(
      (r) => r.statement?.startsWith("INSERT INTO items VALUES (1, 'one')") === true,
      'INSERT',
    );
    assert.deepEqual([insert.class, insert.outcome, insert.rows], ['WRITE', 'INSERT 0 2', 2]);
    const select = find((r) => r.statement === 'SELECT * FROM public.items', 'SELECT');
    assert.deepEqual([select.class, select.rows, select.objects], ['READ', 2, ['public.items']]);
    assert.equal(find((r) => r.command === 'GRANT', 'GRANT').class, 'ROLE');
    assert.equal(find((r) => r.command === 'SET', 'SET').class, 'MISC_SET');
    assert.equal(find((r) => r.command === 'VACUUM', 'VACUUM').class, 'MISC');
    assert.equal(find((r) => r.command === 'DO', 'DO').class, 'FUNCTION');
  });

  it('records a failed statement with its SQLSTATE', () => {
    const failed = find(
      (r) => r.statement?.includes('no_such_table') === true,
      'the failed SELECT',
    );
    assert.equal(failed.error, true);
    assert.equal(failed.outcome, '42P01');
  });

  it('records each of three executions of a prepared statement', () => {
    const executions = statements.filter((r) => r.prepared === 'ins' && r.outcome === 'INSERT 0 1');
    assert.equal(executions.length, 3);
    for (const r of executions) assert.equal(r.protocol, 'extended');
  });

  it('records one event per statement of a multi-statement query', () => {
    const multi = statements.filter(
      (r) =>
        r.protocol === 'simple' &&
        [
          'SELECT 1 AS a',
          'UPDATE items SET name = name',
          'DELETE FROM items WHERE id = 12',
        ].includes(r.statement ?? ''),
    );
    assert.deepEqual(
      multi.map((r) => [r.class, r.outcome]),
      [
        ['READ', 'SELECT 1'],
        ['WRITE', 'UPDATE 5'],
        ['WRITE', 'DELETE 1'],
      ],
    );
  });

  it('records COPY with its row count', () => {
    const copy = find((r) => r.command === 'COPY', 'COPY');
    assert.deepEqual([copy.class, copy.outcome, copy.rows], ['WRITE', 'COPY 2', 2]);
  });

  it('never writes the password, anywhere in the log', () => {
    const create = find((r) => r.command === 'CREATE ROLE', 'CREATE ROLE');
    assert.equal(create.class, 'ROLE');
    assert.doesNotMatch(create.statement ?? '', /very-secret-password-1/);
    for (const file of readdirSync(auditDir())) {
      assert.doesNotMatch(readFileSync(join(auditDir(), file), 'utf8'), /very-secret-password-1/);
    }
    assert.doesNotMatch(
      readFileSync(server.layout.gatewayEvents, 'utf8'),
      /very-secret-password-1/,
    );
  });

  it('records connections: authentication and the session close with bytes and statements', () => {
    const all = readRecords(auditDir());
    assert.ok(all.some((r) => r.event === 'auth.succeeded' && r.user === 'pgwarden'));
    const closed = all.filter((r) => r.event === 'session.closed');
    assert.ok(closed.length >= 2);
    assert.ok((closed[0]?.bytesIn ?? 0) > 0);
  });

  it('search finds statements by class and user', async () => {
    const result = await server.cli([
      'audit',
      'search',
      '--class',
      'ROLE',
      '--user',
      'pgwarden',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const found = result.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Rec);
    assert.ok(found.length >= 2, result.stdout);
    for (const r of found) assert.equal(r.class, 'ROLE');
  });

  it('verify passes on the intact log, then names a modified, a deleted and a reordered record', async () => {
    await server.cli(['down']);
    const ok = await server.cli(['audit', 'verify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /intact/);

    const files = readdirSync(auditDir())
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    const file = join(auditDir(), files[files.length - 1] as string);
    const original = readFileSync(file, 'utf8');
    const lines = original.split('\n').filter((l) => l !== '');
    assert.ok(lines.length >= 6);
    const target = JSON.parse(lines[3] as string) as Rec;

    const tampered = (content: string[]): Promise<{ code: number | null; stderr: string }> => {
      writeFileSync(file, `${content.join('\n')}\n`);
      return server.cli(['audit', 'verify']);
    };
    const modified = [...lines];
    modified[3] = (lines[3] as string)
      .replace(/"seq":\d+/, (m) => m)
      .replace(/"event":"[^"]+"/, '"event":"forged"');
    const m = await tampered(modified);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /PGW_AUDIT_LOG_TAMPERED/);
    assert.match(m.stderr, new RegExp(`\\b${target.seq}\\b`));
    assert.match(m.stderr, /modified/);

    const deleted = lines.filter((_, i) => i !== 3);
    const d = await tampered(deleted);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /deleted/);

    const reordered = [...lines];
    [reordered[3], reordered[4]] = [lines[4] as string, lines[3] as string];
    const r = await tampered(reordered);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /reordered|deleted/);

    writeFileSync(file, original);
    assert.equal((await server.cli(['audit', 'verify'])).code, 0);
  });
});
