import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadSqlParser, parseStatements } from '../../../src/audit/classify/pg-parser.js';
import type { GuardSettings } from '../../../src/gateway/guard/guard-policy.js';
import type { GuardRefusal } from '../../../src/gateway/guard/guard-refusal.js';
import { parsePlpgsql } from '../../../src/gateway/guard/plpgsql-parser.js';
import { refusalSql } from '../../../src/gateway/guard/refusal-statement.js';
import { type GuardProtocol, StatementGuard } from '../../../src/gateway/guard/statement-guard.js';
import { parseParse, serializeParse } from '../../../src/protocol/frontend/parse.js';
import { parseQuery, serializeQuery } from '../../../src/protocol/frontend/query.js';

/** The guard on whole protocol messages: what the server receives instead. */

const SETTINGS: GuardSettings = {
  guardrails: { privilegedRoles: [], checkPasswordStatements: true },
  passwords: {
    minLength: 16,
    requireClasses: 3,
    forbidRoleName: true,
    expiryDays: 90,
    historySize: 5,
  },
};

function guard() {
  const refusals: [GuardRefusal, GuardProtocol][] = [];
  const statementGuard = new StatementGuard(
    () => SETTINGS,
    'pgwarden',
    undefined, // as for an external backend: no catalog checks
    (refusal, protocol) => refusals.push([refusal, protocol]),
  );
  return { check: statementGuard.check, refusals };
}

/** The text of a replacement, asserting it is a message of the expected type. */
function replacedText(result: ReturnType<StatementGuard['check']>, type: 'Q' | 'P'): string {
  assert.ok(Buffer.isBuffer(result), 'replaced synchronously');
  assert.equal(String.fromCharCode(result[0] as number), type);
  assert.equal(result.readInt32BE(1), result.length - 1, 'length field');
  return type === 'Q' ? parseQuery(result.subarray(5)) : parseParse(result.subarray(5)).query;
}

before(() => loadSqlParser());

describe('statement guard on messages', () => {
  it('lets statements through untouched, without parsing the ones without a keyword', () => {
    const { check, refusals } = guard();
    assert.equal(check(0x51, serializeQuery('SELECT 1')), undefined);
    assert.equal(check(0x51, serializeQuery('GRANT SELECT ON t TO bob')), undefined);
    assert.equal(
      check(0x50, serializeParse({ statement: 's1', query: 'SELECT $1', parameterTypes: [25] })),
      undefined,
    );
    assert.equal(refusals.length, 0);
  });

  it('replaces a whole refused Query (every statement in it) with one that fails on the server', () => {
    const { check, refusals } = guard();
    const sql = replacedText(
      check(0x51, serializeQuery('SELECT 1; GRANT pg_execute_server_program TO bob; SELECT 2')),
      'Q',
    );
    assert.match(sql, /^DO \$pgwarden\$BEGIN RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = /);
    assert.doesNotMatch(sql, /SELECT 2/);
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]?.[1], 'simple');
    assert.equal(refusals[0]?.[0].reason, 'privileged-role');
  });

  it('keeps a Parse message’s statement name and parameter types, replacing only its text', () => {
    const { check, refusals } = guard();
    const result = check(
      0x50,
      serializeParse({
        statement: 'named_1',
        query: 'ALTER ROLE bob SUPERUSER',
        parameterTypes: [23, 0, 25],
      }),
    );
    assert.ok(Buffer.isBuffer(result));
    const parse = parseParse(result.subarray(5));
    assert.equal(parse.statement, 'named_1');
    assert.deepEqual(parse.parameterTypes, [23, 0, 25]);
    assert.match(parse.query, /^DO /);
    assert.equal(refusals[0]?.[1], 'extended');
  });

  it('builds a DO block that PostgreSQL parses and PL/pgSQL compiles, raising the refusal', () => {
    const refusal: GuardRefusal = {
      reason: 'privileged-role',
      sqlState: '42501',
      message: `pgwarden: granting x to "it's $pgwarden$ \\ é" is refused`,
      hint: 'see docs',
      statement: 'GRANT ROLE',
      within: '',
    };
    const sql = refusalSql(refusal);
    assert.match(sql, /^[\x20-\x7e]+$/, 'printable ASCII, valid in every client_encoding');
    const statements = parseStatements(sql);
    assert.equal(statements?.length, 1);
    assert.equal(statements[0]?.type, 'DoStmt');
    const compiled = JSON.stringify(parsePlpgsql(sql));
    assert.match(compiled, /PLpgSQL_stmt_raise/);
    assert.match(compiled, /'42501'/);
  });

  it('never puts the password into the replacement', () => {
    const { check, refusals } = guard();
    const sql = replacedText(check(0x51, serializeQuery("ALTER ROLE bob PASSWORD 'Tiny7'")), 'Q');
    assert.doesNotMatch(sql, /Tiny7/);
    assert.match(sql, /ERRCODE = '22023'/);
    assert.doesNotMatch(JSON.stringify(refusals), /Tiny7/);
  });

  it('sees a statement that a client-only encoding would show the server (SJIS 0x81 0x5C)', () => {
    const { check } = guard();
    // Read as UTF-8, 0x5C is a backslash escaping the quote, and the GRANT is inside a string;
    // read as SJIS (as the server does with client_encoding SJIS) 0x81 0x5C is one character.
    const sql = Buffer.concat([
      Buffer.from("SELECT E'", 'latin1'),
      Buffer.from([0x81, 0x5c]),
      Buffer.from("'; GRANT pg_execute_server_program TO bob; SELECT '", 'latin1'),
    ]);
    const message = Buffer.concat([Buffer.from([0x51, 0, 0, 0, 0]), sql, Buffer.from([0])]);
    message.writeInt32BE(message.length - 1, 1);
    replacedText(check(0x51, message), 'Q');
  });

  it('forwards text the parser rejects, unless it names a privileged role', () => {
    const { check } = guard();
    assert.equal(check(0x51, serializeQuery('CREATE ROLE')), undefined);
    replacedText(check(0x51, serializeQuery('GRANT pg_read_all_data TO system_user')), 'Q');
  });
});
