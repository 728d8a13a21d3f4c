import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadSqlParser } from '../../../src/audit/classify/pg-parser.js';
import type { Findings } from '../../../src/gateway/guard/guard-findings.js';
import { type GuardContext, guardPolicy } from '../../../src/gateway/guard/guard-policy.js';
import {
  constantString,
  inspectSql,
  MAX_NESTING,
} from '../../../src/gateway/guard/statement-inspector.js';
import {
  mayNeedInspection,
  mayNeedInspectionBytes,
} from '../../../src/gateway/guard/statement-prefilter.js';

/** The statement guard's static rules, on PostgreSQL's parse trees (no server). */

const context = (privilegedRoles: string[] = ['replicator', 'Etl Reader']): GuardContext => ({
  sessionUser: 'pgwarden',
  policy: guardPolicy({
    guardrails: { privilegedRoles, checkPasswordStatements: true },
    passwords: {
      minLength: 16,
      requireClasses: 3,
      forbidRoleName: true,
      expiryDays: 90,
      historySize: 5,
    },
  }),
});

const inspect = (sql: string): Findings => inspectSql(sql, context());

/** Asserts a refusal with this reason, and returns it. */
function refused(sql: string, reason: string) {
  const refusal = inspect(sql).refusal;
  assert.ok(refusal !== undefined, `expected "${sql}" to be refused (${reason})`);
  assert.equal(refusal.reason, reason, `${sql}: ${refusal.message}`);
  assert.match(refusal.message, /^pgwarden: /);
  assert.doesNotMatch(refusal.message, /\n/, 'one line');
  return refusal;
}

function passes(sql: string): Findings {
  const findings = inspect(sql);
  assert.equal(findings.refusal, undefined, `${sql}: ${findings.refusal?.message}`);
  return findings;
}

before(() => loadSqlParser());

describe('guard: privileged predefined roles', () => {
  it('refuses GRANT pg_execute_server_program to the session, a name, a quoted name', () => {
    const refusal = refused('GRANT pg_execute_server_program TO current_user', 'privileged-role');
    assert.equal(
      refusal.message,
      "pgwarden: granting pg_execute_server_program to current_user is refused: it runs programs as the server's OS user; allowed only for roles listed in guardrails.privilegedRoles",
    );
    assert.equal(refusal.sqlState, '42501');
    assert.equal(refusal.statement, 'GRANT ROLE');
    assert.equal(refusal.within, '');
    assert.match(
      refused('GRANT pg_execute_server_program TO bob', 'privileged-role').message,
      /to "bob"/,
    );
    assert.match(
      refused('grant PG_EXECUTE_SERVER_PROGRAM to "Mixed Case"', 'privileged-role').message,
      /to "Mixed Case"/,
    );
    refused('GRANT pg_execute_server_program TO session_user', 'privileged-role');
    refused('GRANT pg_execute_server_program TO PUBLIC', 'privileged-role');
  });

  it('refuses WITH ADMIN OPTION, several roles, several grantees, and every privileged role', () => {
    refused('GRANT pg_read_server_files TO bob WITH ADMIN OPTION', 'privileged-role');
    const many = refused(
      'GRANT app_rw, pg_write_server_files TO replicator, bob',
      'privileged-role',
    );
    assert.match(many.message, /granting pg_write_server_files to "bob"/);
    for (const role of ['pg_read_all_data', 'pg_write_all_data', 'pg_read_server_files']) {
      refused(`GRANT ${role} TO bob`, 'privileged-role');
    }
  });

  it('refuses the other ways to join a privileged role: CREATE ROLE … IN ROLE, ALTER GROUP … ADD USER', () => {
    refused('CREATE ROLE x IN ROLE pg_write_all_data', 'privileged-role');
    refused('CREATE USER x IN GROUP pg_read_all_data', 'privileged-role');
    refused('CREATE ROLE x ROLE pg_read_all_data', 'privileged-role');
    refused('ALTER GROUP pg_read_all_data ADD USER bob', 'privileged-role');
  });

  it('lets an allow-listed role have them, and refuses handing an allow-listed role on', () => {
    passes('GRANT pg_read_all_data TO replicator');
    passes('GRANT pg_read_all_data TO "Etl Reader"');
    passes('CREATE ROLE replicator IN ROLE pg_read_all_data');
    const onward = refused('GRANT replicator TO bob', 'privileged-role');
    assert.match(onward.message, /"replicator" is listed in guardrails.privilegedRoles/);
    passes('GRANT replicator TO "Etl Reader"');
  });

  it('revoking a privileged role is fine', () => {
    passes('REVOKE pg_execute_server_program FROM bob');
  });
});

describe('guard: privileged attributes', () => {
  it('refuses SUPERUSER, BYPASSRLS and REPLICATION in ALTER ROLE and ALTER USER', () => {
    const su = refused('ALTER ROLE x SUPERUSER', 'privileged-attribute');
    assert.equal(
      su.message,
      'pgwarden: giving "x" SUPERUSER is refused: it bypasses every permission check; allowed only for roles listed in guardrails.privilegedRoles',
    );
    refused('ALTER ROLE x WITH BYPASSRLS', 'privileged-attribute');
    refused('ALTER ROLE x REPLICATION', 'privileged-attribute');
    refused('ALTER USER x WITH LOGIN REPLICATION', 'privileged-attribute');
    refused('ALTER ROLE current_user SUPERUSER', 'privileged-attribute');
    refused('ALTER ROLE session_user BYPASSRLS', 'privileged-attribute');
  });

  it('refuses them in CREATE ROLE, CREATE USER and CREATE GROUP', () => {
    refused('CREATE ROLE boss SUPERUSER LOGIN', 'privileged-attribute');
    refused('CREATE USER boss WITH BYPASSRLS', 'privileged-attribute');
    refused('CREATE GROUP boss REPLICATION', 'privileged-attribute');
  });

  it('allows them for the allow-list, and allows every NO… form and harmless option', () => {
    passes('ALTER ROLE replicator REPLICATION');
    passes('CREATE ROLE replicator LOGIN REPLICATION');
    passes('ALTER ROLE bob NOSUPERUSER NOBYPASSRLS NOREPLICATION');
    passes("ALTER ROLE bob VALID UNTIL '2030-01-01'");
    passes('ALTER ROLE bob CONNECTION LIMIT 5 CREATEDB');
    passes('ALTER ROLE bob SET work_mem = 1024');
    passes('CREATE ROLE app_rw NOLOGIN');
  });
});

describe("guard: pgwarden's internal roles", () => {
  it('refuses granting, revoking, altering, dropping and renaming them', () => {
    const grant = refused('GRANT pgwarden_token_login TO bob', 'internal-role');
    assert.match(grant.message, /granting pgwarden_token_login is refused: its members log in/);
    refused('GRANT pgwarden_admin TO bob', 'internal-role');
    refused('REVOKE pgwarden_admin FROM pgwarden', 'internal-role');
    refused('ALTER ROLE pgwarden_admin NOCREATEROLE', 'internal-role');
    refused("ALTER ROLE pgwarden_su PASSWORD 'Correct-Horse-Battery-9'", 'internal-role');
    refused('ALTER ROLE pgwarden_admin SET search_path = evil', 'internal-role');
    refused('ALTER ROLE pgwarden_admin IN DATABASE postgres RESET ALL', 'internal-role');
    refused('ALTER ROLE pgwarden_admin RENAME TO admins', 'internal-role');
    refused('ALTER ROLE someone RENAME TO pgwarden_admin', 'internal-role');
    refused('DROP ROLE pgwarden_token_login', 'internal-role');
    refused('DROP ROLE IF EXISTS bob, pgwarden_su', 'internal-role');
    refused('CREATE ROLE pgwarden_token_login', 'internal-role');
  });

  it('refuses changing who they are members of, and ALTER ROLE ALL', () => {
    refused('GRANT app_rw TO pgwarden_admin', 'internal-role');
    refused('ALTER GROUP app_rw ADD USER pgwarden_admin', 'internal-role');
    refused('ALTER GROUP pgwarden_admin DROP USER pgwarden', 'internal-role');
    refused('CREATE ROLE x ROLE pgwarden_admin', 'internal-role');
    refused('ALTER ROLE ALL SET search_path = evil', 'internal-role');
  });

  it('leaves CURRENT_USER to the catalog: after SET ROLE it may be pgwarden_admin', () => {
    const findings = passes('ALTER ROLE CURRENT_USER SET search_path = app');
    assert.deepEqual(
      findings.catalog.map((c) => c.kind),
      ['current-user'],
    );
    assert.equal(passes('GRANT app_rw TO current_role').catalog[0]?.kind, 'current-user');
  });
});

describe('guard: harmless statements pass', () => {
  it('object privileges, ordinary roles and memberships', () => {
    passes('GRANT SELECT ON t TO r');
    passes('GRANT SELECT ON ALL TABLES IN SCHEMA public TO pgwarden_admin');
    passes('REVOKE ALL ON DATABASE postgres FROM PUBLIC');
    passes('CREATE ROLE bob LOGIN');
    passes('DROP ROLE bob');
    passes('SELECT 1; CREATE TABLE created_at (drop_date date)');
  });

  it('an ordinary role grant passes, checked against the catalog for what the role holds', () => {
    const findings = passes('GRANT app_rw TO bob');
    assert.deepEqual(findings.catalog, [
      {
        kind: 'grant',
        role: 'app_rw',
        grantee: '"bob"',
        site: { statement: 'GRANT ROLE', within: '' },
      },
    ]);
    // Predefined roles other than the privileged ones hold nothing to check; the allow-list may hold anything.
    assert.equal(passes('GRANT pg_monitor TO bob').catalog.length, 0);
    assert.equal(passes('GRANT app_rw TO replicator').catalog.length, 0);
  });
});

describe('guard: DO blocks and function bodies', () => {
  it('finds static SQL in DO blocks, in every quoting and language spelling', () => {
    const refusal = refused(
      'DO $$BEGIN GRANT pg_execute_server_program TO current_user; END$$',
      'privileged-role',
    );
    assert.equal(refusal.within, 'DO');
    refused("DO LANGUAGE plpgsql 'BEGIN ALTER ROLE bob SUPERUSER; END'", 'privileged-attribute');
    const nested = refused(
      'DO $a$BEGIN DO $b$BEGIN GRANT pg_read_all_data TO bob; END$b$; END$a$',
      'privileged-role',
    );
    assert.equal(nested.within, 'DO > DO');
    refused(
      'DO $body$ DECLARE n int; BEGIN IF true THEN LOOP DROP ROLE pgwarden_token_login; EXIT; END LOOP; END IF; END $body$',
      'internal-role',
    );
  });

  it('follows EXECUTE of a constant string (and of constants joined with ||)', () => {
    const plain = refused(
      "DO $$BEGIN EXECUTE 'GRANT pg_execute_server_program TO bob'; END$$",
      'privileged-role',
    );
    assert.equal(plain.within, 'DO > EXECUTE');
    refused(
      "DO $$BEGIN EXECUTE 'GRANT pg_execute' || '_server_program TO ' || 'bob'; END$$",
      'privileged-role',
    );
    refused("DO $$BEGIN EXECUTE 'ALTER ROLE bob BYPASSRLS'::text; END$$", 'privileged-attribute');
    refused(
      "DO $$BEGIN EXECUTE 'DO $x$BEGIN EXECUTE ''DROP ROLE pgwarden_su''; END$x$'; END$$",
      'internal-role',
    );
    passes("DO $$BEGIN EXECUTE 'SELECT 1'; PERFORM 1; RAISE NOTICE 'granted'; END$$");
  });

  it('refuses a run-time EXECUTE that names a privileged role or attribute, lets the others run', () => {
    const dynamic = refused(
      "DO $$BEGIN EXECUTE 'GRANT pg_execute_server_program TO ' || quote_ident(current_user); END$$",
      'unchecked-sql',
    );
    assert.match(
      dynamic.message,
      /EXECUTE of a string built at run time .* names pg_execute_server_program/,
    );
    refused("DO $$BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', 'bob'); END$$", 'unchecked-sql');
    passes("DO $$BEGIN EXECUTE format('ALTER ROLE %I NOSUPERUSER', 'bob'); END$$");
    passes("DO $$BEGIN EXECUTE 'SELECT ' || 1; END$$");
  });

  it('finds them in CREATE FUNCTION and PROCEDURE bodies: plpgsql, sql strings, BEGIN ATOMIC', () => {
    const plpgsql = refused(
      'CREATE OR REPLACE FUNCTION esc() RETURNS void LANGUAGE plpgsql AS $$BEGIN GRANT pg_read_all_data TO bob; END$$',
      'privileged-role',
    );
    assert.equal(plpgsql.within, 'CREATE FUNCTION');
    refused(
      "CREATE FUNCTION esc(a int) RETURNS int AS 'BEGIN ALTER ROLE bob SUPERUSER; RETURN a; END' LANGUAGE plpgsql",
      'privileged-attribute',
    );
    refused(
      "CREATE PROCEDURE esc() LANGUAGE sql AS 'GRANT pg_write_server_files TO bob'",
      'privileged-role',
    );
    refused(
      'CREATE FUNCTION esc() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT 1; GRANT pgwarden_admin TO bob; END',
      'internal-role',
    );
    refused(
      "CREATE FUNCTION esc() RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'GRANT pg_read_server_files TO bob'; END$$",
      'privileged-role',
    );
    passes(
      'CREATE FUNCTION ok(a int) RETURNS SETOF int LANGUAGE plpgsql AS $$BEGIN RETURN QUERY SELECT a; END$$',
    );
    passes('CREATE FUNCTION ok() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END');
  });

  it('refuses bodies it cannot see into only when they name privileged roles or attributes', () => {
    refused(
      "CREATE FUNCTION p() RETURNS void LANGUAGE plperl AS 'spi_exec_query(q{GRANT pg_read_all_data TO bob})'",
      'unchecked-sql',
    );
    passes("CREATE FUNCTION p() RETURNS int LANGUAGE plperl AS 'return 1'");
    refused("DO LANGUAGE plperl 'spi_exec_query(q{ALTER ROLE bob SUPERUSER})'", 'unchecked-sql');
  });

  it('refuses nesting deeper than it follows', () => {
    let sql = 'GRANT app_rw TO bob';
    for (let i = 0; i <= MAX_NESTING; i++) sql = `DO ${dollar(i)}BEGIN ${sql}; END${dollar(i)}`;
    refused(sql, 'too-deep');
  });
});

describe('guard: text the parser rejects', () => {
  it('forwards it, unless it names a privileged role or attribute', () => {
    // PostgreSQL 15 accepts system_user as a role name; the parser here (18) does not.
    const refusal = refused('GRANT pg_execute_server_program TO system_user', 'unchecked-sql');
    assert.match(refusal.message, /^pgwarden: the statement cannot be parsed by the gateway/);
    passes('GRANT app_rw TO system_user');
    passes('ALTER ROLE bob PASSWORD');
  });
});

describe('guard: prefilter', () => {
  it('skips statements without a keyword that can begin a refused statement', () => {
    for (const sql of [
      'SELECT * FROM orders',
      'INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING',
      'INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET n = 2',
      'UPDATE t SET created_at = now(), dropped = true',
      'SELECT granted, alter_ego FROM t',
    ]) {
      assert.equal(mayNeedInspection(sql), false, sql);
    }
  });

  it('catches every refused statement shape, whatever the case', () => {
    for (const sql of [
      'grant x to y',
      'Revoke x FROM y',
      'create role x',
      'ALTER USER x',
      'drop ROLE x',
      'do $$ $$',
      "DO LANGUAGE plpgsql ''",
      "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING; DO 'BEGIN END'",
      '/* c */GRANT x TO y',
    ]) {
      assert.equal(mayNeedInspection(sql), true, sql);
    }
  });
});

describe('guard: prefilter on bytes', () => {
  it('finds a keyword anywhere in a statement of several megabytes, also across its slices', () => {
    const size = 3 * (1 << 20);
    for (const at of [0, (1 << 20) - 3, (1 << 20) - 16, 2 * (1 << 20) - 20, size - 5]) {
      const bytes = Buffer.alloc(size, 0x20);
      bytes.write('GRANT', at, 'latin1');
      assert.equal(mayNeedInspectionBytes(bytes), true, `GRANT at ${at}`);
    }
    assert.equal(mayNeedInspectionBytes(Buffer.alloc(size, 0x61)), false);
  });
});

describe('guard: constant strings', () => {
  it('folds literals, casts and ||; nothing else', () => {
    assert.equal(constantString("'a' || 'b'"), 'ab');
    assert.equal(constantString("E'it''s'::text"), "it's");
    assert.equal(constantString("$q$x$q$ || ''"), 'x');
    assert.equal(constantString("'a' || b"), undefined);
    assert.equal(constantString("format('%s', 'a')"), undefined);
    assert.equal(constantString("'a' FROM t"), undefined);
  });
});

function dollar(i: number): string {
  return `$n${i}$`;
}
