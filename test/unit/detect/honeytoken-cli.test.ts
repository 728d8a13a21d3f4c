import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../../src/cli/run-cli.js';
import {
  generateMarker,
  markerFormatProblem,
  markerProblem,
} from '../../../src/detect/honeytoken/honeytoken-marker.js';
import {
  type AddFlags,
  parseAddRequest,
  parseColumnName,
  parseTableName,
} from '../../../src/detect/honeytoken/honeytoken-request.js';
import { isPgwardenError } from '../../../src/errors.js';

/** `pgwarden detect honeytoken`: what is refused before any database is opened. */

const refused = async (flags: AddFlags, code: string, message: RegExp): Promise<void> => {
  await assert.rejects(parseAddRequest(flags), (error: unknown) => {
    assert.ok(isPgwardenError(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
};

describe('honeytoken add requests', () => {
  it('reads a mark request: the table as PostgreSQL folds it, the condition as given', async () => {
    assert.deepEqual(await parseAddRequest({ table: 'Sales.Customers', where: 'id = 3' }), {
      mode: 'mark',
      database: 'postgres',
      table: { schema: 'sales', table: 'customers' },
      where: 'id = 3',
      column: undefined,
    });
    const quoted = await parseAddRequest({
      table: '"Customers"',
      where: "email LIKE '%@example.org'",
      column: '"E-Mail"',
      database: 'shop',
    });
    assert.deepEqual(quoted, {
      mode: 'mark',
      database: 'shop',
      table: { schema: 'public', table: 'Customers' },
      where: "email LIKE '%@example.org'",
      column: 'E-Mail',
    });
  });

  it('reads a plant request with values and a marker format', async () => {
    const request = await parseAddRequest({
      table: 'customers',
      plant: true,
      column: 'email',
      values: '{"name": "Zed Roe", "tier": 3}',
      markerFormat: 'z.{random}@example.org',
    });
    assert.deepEqual(request, {
      mode: 'plant',
      database: 'postgres',
      table: { schema: 'public', table: 'customers' },
      column: 'email',
      values: { name: 'Zed Roe', tier: 3 },
      markerFormat: 'z.{random}@example.org',
    });
  });

  it('refuses a condition that is more than one expression', async () => {
    for (const where of [
      'true; DROP TABLE customers',
      'true) AS x FROM pg_catalog.pg_authid WHERE (true',
      'id = 1 -- comment',
      'id = 1 /* comment */',
      'true) UNION SELECT (1',
      'id = 1 ORDER BY 1',
      '',
    ]) {
      await refused({ table: 't', where }, 'PGW_HONEYTOKEN_INVALID', /not one SQL expression/);
    }
  });

  it('refuses what is not a table name', async () => {
    for (const table of [
      't; DROP TABLE x',
      't WHERE true',
      't AS x',
      'a.b.c',
      'ONLY t',
      't, u',
      '(SELECT 1) s',
      'user',
      '',
      't -- x',
    ]) {
      await assert.rejects(parseTableName(table), /is not a table name/, table);
    }
  });

  it('refuses what is not a column name', async () => {
    for (const column of ['a.b', 'a, b', 'a AS b', 'lower(a)', '1', '*', 'a FROM t', '']) {
      await assert.rejects(parseColumnName(column), /is not a column name/, column);
    }
    assert.equal(await parseColumnName('"Mixed Case"'), 'Mixed Case');
  });

  it('refuses flags that do not go together', async () => {
    await refused({ where: 'true' }, 'PGW_HONEYTOKEN_INVALID', /needs --table/);
    await refused({ table: 't' }, 'PGW_HONEYTOKEN_INVALID', /needs --where/);
    await refused(
      { table: 't', where: 'true', values: '{}' },
      'PGW_HONEYTOKEN_INVALID',
      /go with --plant/,
    );
    await refused(
      { table: 't', plant: true, column: 'c', where: 'true' },
      'PGW_HONEYTOKEN_INVALID',
      /takes no --where/,
    );
    await refused({ table: 't', plant: true }, 'PGW_HONEYTOKEN_INVALID', /needs --column/);
    await refused(
      { table: 't', where: 'true', database: 'x'.repeat(64) },
      'PGW_HONEYTOKEN_INVALID',
      /not a database name/,
    );
  });

  it('refuses --values that are not an object of other columns', async () => {
    const plant = { table: 't', plant: true, column: 'email' };
    await refused({ ...plant, values: '[1]' }, 'PGW_HONEYTOKEN_INVALID', /JSON object/);
    await refused({ ...plant, values: '{' }, 'PGW_HONEYTOKEN_INVALID', /not JSON/);
    await refused(
      { ...plant, values: '{"email": "x"}' },
      'PGW_HONEYTOKEN_INVALID',
      /the column the marker goes in/,
    );
  });

  it('refuses a marker format that cannot make good markers', async () => {
    const plant = { table: 't', plant: true, column: 'email' };
    for (const [format, why] of [
      ['user@example.org', /exactly once/],
      ['{random}{random}', /exactly once/],
      ['{random}\\x', /printable ASCII/],
      [`{random}${'x'.repeat(60)}`, /longer than 64/],
    ] as const) {
      await refused({ ...plant, markerFormat: format }, 'PGW_HONEYTOKEN_INVALID', why);
    }
  });
});

describe('honeytoken markers', () => {
  it('accepts distinctive printable ASCII of 8 to 64 characters', () => {
    for (const value of ['jane.roe@example.org', 'tok_8f3k2m9x7q', 'ACME Corp Ltd', 'a1b2c3d4']) {
      assert.equal(markerProblem(value), undefined, value);
    }
  });

  it('refuses values a client could hide, or that turn up by chance', () => {
    const cases: [string, RegExp][] = [
      ['short', /shorter than 8/],
      ['x'.repeat(65), /longer than 64/],
      ['Zoë Müller-Lüdenscheidt', /printable ASCII/],
      ['C:\\Users\\jane', /printable ASCII/],
      ['say "cheese" now', /printable ASCII/],
      ['line\nbreak here', /printable ASCII/],
      ['tab\tseparated', /printable ASCII/],
      [' padded value', /space/],
      ['12-12-1212', /distinct characters/],
      ['00000000000', /distinct characters/],
    ];
    for (const [value, why] of cases) assert.match(markerProblem(value) ?? '', why, value);
  });

  it('generates fresh markers in the given shape', () => {
    const a = generateMarker();
    const b = generateMarker();
    assert.match(a, /^[a-z0-9]{16}$/);
    assert.notEqual(a, b);
    assert.match(generateMarker('j.{random}@example.org'), /^j\.[a-z0-9]{16}@example\.org$/);
    assert.equal(markerFormatProblem('{random}@example.org'), undefined);
  });
});

describe('pgwarden detect honeytoken (command line)', () => {
  const run = async (args: string[]): Promise<{ code: number; err: string; out: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli([...args, '--data-dir', '/nonexistent/pgwarden-unit'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: {},
      cwd: '/',
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('refuses a bad request before looking for a server', async () => {
    const result = await run(['detect', 'honeytoken', 'add', '--table', 't', '--where', 'true;']);
    assert.equal(result.code, 1);
    assert.match(result.err, /is not one SQL expression .*\(PGW_HONEYTOKEN_INVALID\)/);
  });

  it('refuses flags of another subcommand, and unknown subcommands', async () => {
    const wrong = await run(['detect', 'honeytoken', 'list', '--table', 't']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /does not take --table \(PGW_USAGE\)/);
    const unknown = await run(['detect', 'honeytoken', 'plant']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown detect honeytoken subcommand "plant"/);
    const id = await run(['detect', 'honeytoken', 'remove', '--id', '1; DROP']);
    assert.equal(id.code, 2);
    assert.match(id.err, /is not a honeytoken id/);
    const group = await run(['detect']);
    assert.equal(group.code, 2);
    assert.match(group.err, /detect needs a subcommand/);
  });
});
