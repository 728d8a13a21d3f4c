import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadSqlParser } from '../../../src/audit/classify/pg-parser.js';
import { scramSha256Verifier } from '../../../src/auth/scram-secret.js';
import { matchesVerifierAsync } from '../../../src/gateway/guard/guard-catalog.js';
import { type GuardContext, guardPolicy } from '../../../src/gateway/guard/guard-policy.js';
import { inspectSql } from '../../../src/gateway/guard/statement-inspector.js';

/** CREATE/ALTER ROLE … PASSWORD under the password policy (no server). */

const context = (checkPasswordStatements = true): GuardContext => ({
  sessionUser: 'pgwarden',
  policy: guardPolicy({
    guardrails: { privilegedRoles: [], checkPasswordStatements },
    passwords: {
      minLength: 16,
      requireClasses: 3,
      forbidRoleName: true,
      expiryDays: 90,
      historySize: 5,
    },
  }),
});

const GOOD = 'Correct-Horse-Battery-9';

before(() => loadSqlParser());

describe('guard: cleartext passwords', () => {
  it('refuses a weak one with 22023, naming each rule and never the password', () => {
    const refusal = inspectSql("ALTER ROLE bob PASSWORD 'short'", context()).refusal;
    assert.equal(refusal?.reason, 'password-policy');
    assert.equal(refusal.sqlState, '22023');
    assert.equal(
      refusal.message,
      'pgwarden: the new password of role "bob" breaks the password policy: too-short (it has 5 characters; the policy needs at least 16); too-few-classes (it has 1 of the character classes lower case, upper case, digit and symbol; the policy needs 3)',
    );
    assert.doesNotMatch(`${refusal.message} ${refusal.hint}`, /short'|'short/);
  });

  it('checks every spelling: CREATE USER, ENCRYPTED, ALTER USER, in DO and EXECUTE', () => {
    for (const sql of [
      "CREATE ROLE bob LOGIN PASSWORD 'weak-one'",
      "CREATE USER bob WITH ENCRYPTED PASSWORD 'weak-one'",
      "ALTER USER bob WITH PASSWORD 'weak-one' VALID UNTIL 'infinity'",
      "DO $$BEGIN ALTER ROLE bob PASSWORD 'weak-one'; END$$",
      "DO $$BEGIN EXECUTE 'ALTER ROLE bob PASSWORD ''weak-one'''; END$$",
    ]) {
      assert.equal(inspectSql(sql, context()).refusal?.reason, 'password-policy', sql);
    }
  });

  it('refuses a password holding the role name, for CURRENT_USER the session user', () => {
    const named = inspectSql("ALTER ROLE alice PASSWORD 'xx-ALICE-Correct-9'", context()).refusal;
    assert.match(named?.message ?? '', /contains-role-name \(it contains the role name "alice"/);
    const current = inspectSql(
      "ALTER ROLE CURRENT_USER PASSWORD 'my-Pgwarden-Horse-9'",
      context(),
    ).refusal;
    assert.match(current?.message ?? '', /contains-role-name/);
  });

  it('accepts a compliant one; for an existing role it is then compared with the old ones', () => {
    const alter = inspectSql(`ALTER ROLE bob PASSWORD '${GOOD}'`, context());
    assert.equal(alter.refusal, undefined);
    assert.deepEqual(
      alter.reuse.map((r) => [r.role, r.password]),
      [['bob', GOOD]],
    );
    const create = inspectSql(`CREATE ROLE newbie LOGIN PASSWORD '${GOOD}'`, context());
    assert.equal(create.refusal, undefined);
    assert.equal(create.reuse.length, 0, 'a new role has no old passwords');
  });

  it('PASSWORD NULL and the empty string (which clears it) are not checked', () => {
    assert.equal(inspectSql('ALTER ROLE bob PASSWORD NULL', context()).refusal, undefined);
    assert.equal(inspectSql("ALTER ROLE bob PASSWORD ''", context()).refusal, undefined);
  });

  it('checks nothing with guardrails.checkPasswordStatements off', () => {
    assert.equal(inspectSql("ALTER ROLE bob PASSWORD 'short'", context(false)).refusal, undefined);
  });
});

describe('guard: hashed passwords', () => {
  it('refuses an md5 hash (stored as given by PostgreSQL)', () => {
    const refusal = inspectSql(
      "ALTER ROLE bob PASSWORD 'md5a3556571e93b0d20722ba62be61e8c2d'",
      context(),
    ).refusal;
    assert.equal(refusal?.reason, 'password-md5');
    assert.equal(refusal.sqlState, '22023');
    // Upper-case hex is no md5 hash to PostgreSQL: a cleartext password, judged by the policy.
    const upper = inspectSql(
      "ALTER ROLE bob PASSWORD 'md5A3556571E93B0D20722BA62BE61E8C2D'",
      context(),
    );
    assert.equal(upper.refusal, undefined);
  });

  it('accepts a SCRAM-SHA-256 verifier of 4096+ iterations (strength unknowable), refuses fewer', () => {
    const verifier = scramSha256Verifier('whatever it was');
    const ok = inspectSql(`ALTER ROLE bob PASSWORD '${verifier}'`, context());
    assert.equal(ok.refusal, undefined);
    assert.equal(ok.reuse.length, 0);
    const weak = scramSha256Verifier('x', Buffer.alloc(16, 1), 1000);
    const refusal = inspectSql(`ALTER ROLE bob PASSWORD '${weak}'`, context()).refusal;
    assert.equal(refusal?.reason, 'password-verifier');
    assert.match(refusal.message, /has 1000 iterations; at least 4096 are required/);
  });
});

describe('guard: reuse comparison', () => {
  it('matches a password against its verifier only', async () => {
    const verifier = scramSha256Verifier(GOOD);
    assert.equal(await matchesVerifierAsync(GOOD, verifier), true);
    assert.equal(await matchesVerifierAsync(`${GOOD}!`, verifier), false);
    assert.equal(await matchesVerifierAsync(GOOD, 'md5a3556571e93b0d20722ba62be61e8c2d'), false);
  });
});
