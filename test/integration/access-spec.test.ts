import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { readJsonLines } from '../helpers/json-lines.js';
import type { CliResult } from '../helpers/pgwarden-cli.js';
import { poll } from '../helpers/poll.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 6, items 1-3: an access spec goes plan → apply → drift-clean against a
 * real server; changes made by hand show up in drift; names that need quoting
 * survive; the guardrails refuse; a failed apply changes nothing.
 */
const ADMIN = 'pgwarden';
const EXAMPLE = join(import.meta.dirname, '../../../examples/multi-tenant');
const TENANT_PASSWORD = 'Tenant-App-Passw0rd-#2026';
const SUPPORT_PASSWORD = 'Help-Desk-Passw0rd-#2026';

// Both servers: PostgreSQL 16 changed how role grants and CREATEROLE work.
for (const { pgBin, version } of await testBinarySources()) {
  describe(`pgwarden access plan/apply/drift (${pgBin} ${version})`, () => {
    const clients: pg.Client[] = [];
    after(async () => {
      for (const client of clients) await client.end().catch(() => undefined);
    });
    const server = TempServer.create(pgBin, (fn) => after(fn));
    let specDir: string;

    const connect = async (user: string, password: string): Promise<pg.Client> => {
      const client = new pg.Client(server.gatewayClientConfig(user, password));
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client);
      return client;
    };
    const asAdmin = () => connect(ADMIN, server.adminPassword());
    const cli = (...args: string[]): Promise<CliResult> => server.cli(args);
    const writeSpec = (name: string, text: string): string => {
      const path = join(specDir, name);
      writeFileSync(path, text);
      return path;
    };
    const su = async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => {
      const client = await server.superuser();
      try {
        return (await client.query<T>(sql, values)).rows;
      } finally {
        await client.end();
      }
    };

    before(async () => {
      await server.up();
      specDir = join(server.dataDir, '..');
      const admin = await asAdmin();
      await admin.query(readFileSync(join(EXAMPLE, 'schema.sql'), 'utf8'));
      await admin.end();
    });

    describe('the multi-tenant example', () => {
      const spec = join(EXAMPLE, 'access.yaml');

      it('plans the exact SQL, grouped and explained, and changes nothing', async () => {
        const plan = await cli('access', 'plan', '--spec', spec);
        assert.equal(plan.code, 0, plan.stderr);
        for (const line of [
          '-- roles',
          'CREATE ROLE "tenant_app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 50;',
          '-- memberships',
          'GRANT "app_readwrite" TO "tenant_app";',
          'GRANT "app_owner" TO "ci_migrator";',
          'REVOKE EXECUTE ON ROUTINE app.current_tenant() FROM PUBLIC CASCADE;',
          'GRANT SELECT ("tenant_id") ON TABLE "app"."invoices" TO "support";',
          'ALTER DEFAULT PRIVILEGES FOR ROLE "app_owner" IN SCHEMA "app" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "app_readwrite";',
          'ALTER TABLE "app"."invoices" FORCE ROW LEVEL SECURITY;',
          'CREATE POLICY "hide_archived" ON "app"."invoices" AS RESTRICTIVE FOR ALL TO "app_readwrite" USING (NOT archived);',
          '-- role "tenant_app" does not exist',
        ]) {
          assert.ok(plan.stdout.includes(line), `plan has: ${line}\n${plan.stdout}`);
        }
        const fingerprint = /--expect (sha256:[0-9a-f]{16})/.exec(plan.stdout)?.[1];
        assert.ok(fingerprint);
        assert.deepEqual(await su("SELECT 1 FROM pg_roles WHERE rolname = 'tenant_app'"), []);
        // The same plan twice: the fingerprint only depends on the SQL.
        const again = await cli('access', 'plan', '--spec', spec);
        assert.ok(again.stdout.includes(`--expect ${fingerprint}`));
      });

      it('refuses to apply a plan other than the one reviewed', async () => {
        const result = await cli(
          'access',
          'apply',
          '--spec',
          spec,
          '--expect',
          'sha256:0000000000000000',
        );
        assert.equal(result.code, 1);
        assert.match(
          result.stderr,
          /the plan is now sha256:[0-9a-f]{16}, not the reviewed sha256:0{16}.*PGW_ACCESS_PLAN_CHANGED/,
        );
        assert.deepEqual(await su("SELECT 1 FROM pg_roles WHERE rolname = 'tenant_app'"), []);
      });

      it('applies in one transaction, then plans nothing and drifts nowhere', async () => {
        const plan = await cli('access', 'plan', '--spec', spec);
        const fingerprint = /--expect (sha256:[0-9a-f]{16})/.exec(plan.stdout)?.[1] ?? '';
        const applied = await cli('access', 'apply', '--spec', spec, '--expect', fingerprint);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(
          applied.stdout,
          /-- applied \d+ statement\(s\) to database "postgres" in one transaction/,
        );
        const replan = await cli('access', 'plan', '--spec', spec);
        assert.equal(
          replan.stdout.trim(),
          '-- database "postgres" matches the spec: nothing to do',
        );
        const drift = await cli('access', 'drift');
        assert.equal(drift.code, 0, drift.stdout + drift.stderr);
        assert.match(
          drift.stdout,
          /^no drift: database "postgres" matches the spec applied .* from .*access\.yaml/,
        );
        const reapply = await cli('access', 'apply', '--spec', spec);
        assert.match(reapply.stdout, /already matches the spec: nothing applied/);
      });

      it('records the apply as a security event', async () => {
        const event = await poll(
          'access.spec-applied recorded',
          () =>
            readJsonLines(server.layout.gatewayEvents).find(
              (e) => e.event === 'access.spec-applied',
            ),
          (found) => found !== undefined,
        );
        assert.ok(event, 'access.spec-applied recorded');
        assert.equal(event.code, 3301);
        const access = event.access as Record<string, unknown>;
        assert.equal(access.database, 'postgres');
        assert.match(String(access.fingerprint), /^sha256:/);
        assert.ok(Number(access.statements) > 20);
      });

      it('enforces the spec for the roles it made: rows per tenant, columns for support', async () => {
        // The spec makes roles, never passwords: those are set under the password policy.
        for (const [role, password] of [
          ['tenant_app', TENANT_PASSWORD],
          ['support', SUPPORT_PASSWORD],
        ] as const) {
          const set = await server.cli(['role', 'password', 'set', '--role', role], {
            env: { PGWARDEN_NEW_PASSWORD: password },
          });
          assert.equal(set.code, 0, set.stderr);
        }
        // As the owner's member would, in a migration: the owner is subject to the policies (FORCE).
        await su(
          "SET ROLE app_owner; ALTER TABLE app.tenants NO FORCE ROW LEVEL SECURITY; INSERT INTO app.tenants VALUES ('acme', 'Acme'), ('globex', 'Globex'); ALTER TABLE app.tenants FORCE ROW LEVEL SECURITY",
        );
        // Rows go in as a tenant: the owner is subject to the policies too (FORCE).
        const acme = await connect('tenant_app', TENANT_PASSWORD);
        await acme.query("SET app.tenant = 'acme'");
        await acme.query(
          "INSERT INTO app.invoices (tenant_id, amount, card_number) VALUES ('acme', 10, '4111')",
        );
        await acme.query(
          "INSERT INTO app.invoices (tenant_id, amount, archived) VALUES ('acme', 5, false)",
        );
        await assert.rejects(
          acme.query("INSERT INTO app.invoices (tenant_id, amount) VALUES ('globex', 1)"),
          { code: '42501', message: /row-level security policy/ },
        );
        const globex = await connect('tenant_app', TENANT_PASSWORD);
        await globex.query("SET app.tenant = 'globex'");
        await globex.query("INSERT INTO app.invoices (tenant_id, amount) VALUES ('globex', 7)");
        const seen = await acme.query<{ tenant_id: string }>('SELECT tenant_id FROM app.invoices');
        assert.deepEqual(
          seen.rows.map((r) => r.tenant_id),
          ['acme', 'acme'],
        );
        const updated = await globex.query('UPDATE app.invoices SET amount = amount + 1');
        assert.equal(updated.rowCount, 1);
        // The restrictive policy hides archived rows from the tenant whatever it owns.
        await acme.query('UPDATE app.invoices SET archived = true WHERE amount = 5').then(
          () => assert.fail('archiving is a write the restrictive policy refuses'),
          (error: { code: string }) => assert.equal(error.code, '42501'),
        );
        const support = await connect('support', SUPPORT_PASSWORD);
        const rows = await support.query('SELECT id, tenant_id, amount FROM app.invoices');
        assert.equal(rows.rowCount, 3);
        await assert.rejects(support.query('SELECT card_number FROM app.invoices'), {
          code: '42501',
          message: /permission denied for table invoices/,
        });
      });

      it('shows changes made by hand in drift (exit 1), and apply restores them', async () => {
        // By hand, as the owner would (the administrator does not own app's tables any more).
        await su(`SET ROLE app_owner;
        GRANT SELECT ON app.invoices TO support;
        ALTER TABLE app.invoices NO FORCE ROW LEVEL SECURITY;
        DROP POLICY hide_archived ON app.invoices;
        ALTER POLICY tenant_isolation ON app.invoices USING (true);
        GRANT EXECUTE ON FUNCTION app.current_tenant() TO PUBLIC;
        RESET ROLE;
        ALTER ROLE support CONNECTION LIMIT 100`);
        const drift = await cli('access', 'drift');
        assert.equal(drift.code, 1, drift.stdout + drift.stderr);
        for (const line of [
          '- role "support" has connection limit 100 (spec: 5)',
          '- "support" has SELECT on table "app"."invoices", which the spec does not give',
          '- "PUBLIC" has EXECUTE on function app.current_tenant(), which the spec does not give',
          '- row level security on "app"."invoices" is not forced on the owner (spec: forced)',
          '- policy "hide_archived" on "app"."invoices" does not exist',
          '- "support" keeps SELECT on column "app"."invoices"."amount": granted again, as the table-level REVOKE drops column grants',
          '- policy "tenant_isolation" on "app"."invoices" has USING true: re-created as the spec says',
        ]) {
          assert.ok(drift.stdout.includes(line), `drift has: ${line}\n${drift.stdout}`);
        }
        const json = await cli('access', 'drift', '--json');
        const [report] = JSON.parse(json.stdout) as {
          drifted: boolean;
          plan: { steps: unknown[] };
        }[];
        assert.equal(report?.drifted, true);
        // Six changes, and the four column grants of support the table-level REVOKE drops and grants again.
        assert.equal(report?.plan.steps.length, 10);

        const applied = await cli('access', 'apply', '--spec', join(EXAMPLE, 'access.yaml'));
        assert.equal(applied.code, 0, applied.stderr);
        // One apply converges, although revoking SELECT on the table also dropped the column grants.
        const clean = await cli('access', 'drift');
        assert.equal(clean.code, 0, clean.stdout);
        const support = await connect('support', SUPPORT_PASSWORD);
        assert.equal((await support.query('SELECT amount FROM app.invoices')).rowCount, 3);
        await assert.rejects(support.query('SELECT card_number FROM app.invoices'), {
          code: '42501',
        });
      });
    });

    describe('quoting', () => {
      const ROLE = 'Ünïcödé "quoted" role';
      const OTHER = "it's a role";
      const SCHEMA = 'My Schema';
      const TABLE = 'Ta"ble ü';
      const COLUMN = 'Col "x" ß';
      const POLICY = `pol 'single' "double"`;
      const yamlString = (s: string) => JSON.stringify(s);

      it('names with quotes, spaces, upper case and unicode go plan → apply → clean', async () => {
        const admin = await asAdmin();
        const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
        await admin.query(`CREATE SCHEMA ${q(SCHEMA)}`);
        await admin.query(
          `CREATE TABLE ${q(SCHEMA)}.${q(TABLE)} (id int, ${q(COLUMN)} text, owner_name text)`,
        );
        await admin.end();
        const path = writeSpec(
          'quoting.yaml',
          [
            'database: postgres',
            'roles:',
            `  ${yamlString(ROLE)}: { login: true, validUntil: "2031-02-03 04:05:06+00", comment: ${yamlString('O\'Reilly \\ and "friends"')} }`,
            `  ${yamlString(OTHER)}: { memberOf: [${yamlString(ROLE)}] }`,
            'schemas:',
            `  ${yamlString(SCHEMA)}:`,
            '    grants:',
            `      ${yamlString(ROLE)}: [USAGE]`,
            '    tables:',
            `      ${yamlString(TABLE)}:`,
            '        grants:',
            `          ${yamlString(OTHER)}: [SELECT, insert]`,
            '        columns:',
            `          ${yamlString(COLUMN)}:`,
            `            ${yamlString(ROLE)}: [SELECT, UPDATE]`,
            '        rowSecurity: { enabled: true }',
            '        policies:',
            `          ${yamlString(POLICY)}:`,
            `            roles: [${yamlString(ROLE)}]`,
            `            using: ${yamlString("owner_name = 'it''s' OR owner_name = current_user")}`,
            '',
          ].join('\n'),
        );
        const plan = await cli('access', 'plan', '--spec', path);
        assert.equal(plan.code, 0, plan.stderr);
        assert.ok(plan.stdout.includes(`CREATE ROLE "Ünïcödé ""quoted"" role" LOGIN`), plan.stdout);
        assert.ok(
          plan.stdout.includes(
            `COMMENT ON ROLE "Ünïcödé ""quoted"" role" IS E'O''Reilly \\\\ and "friends"';`,
          ),
          plan.stdout,
        );
        const applied = await cli('access', 'apply', '--spec', path);
        assert.equal(applied.code, 0, applied.stdout + applied.stderr);
        const replan = await cli('access', 'plan', '--spec', path);
        assert.match(replan.stdout, /nothing to do/, replan.stdout);

        const [role] = await su<{ comment: string; until: string; login: boolean }>(
          `SELECT shobj_description(oid, 'pg_authid') AS comment, rolcanlogin AS login,
                to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS until
           FROM pg_roles WHERE rolname = $1`,
          [ROLE],
        );
        assert.deepEqual(role, {
          comment: `O'Reilly \\ and "friends"`,
          until: '2031-02-03 04:05:06',
          login: true,
        });
        const member = await su(
          'SELECT 1 FROM pg_auth_members WHERE roleid = to_regrole($1) AND member = to_regrole($2)',
          [`"${ROLE.replace(/"/g, '""')}"`, `"${OTHER.replace(/"/g, '""')}"`],
        );
        assert.equal(member.length, 1);
        const privileges = await su<{ column: boolean; table: boolean }>(
          `SELECT has_column_privilege($1, $2, $3, 'UPDATE') AS column,
                has_table_privilege($4, $2, 'INSERT') AS table`,
          [ROLE, `"${SCHEMA}"."${TABLE.replace(/"/g, '""')}"`, COLUMN, OTHER],
        );
        assert.deepEqual(privileges, [{ column: true, table: true }]);
        const [policy] = await su<{ polname: string; qual: string }>(
          'SELECT polname, pg_get_expr(polqual, polrelid) AS qual FROM pg_policy WHERE polname = $1',
          [POLICY],
        );
        assert.equal(policy?.polname, POLICY);
        assert.match(policy?.qual ?? '', /'it''s'::text/);
      });
    });

    describe('what a spec does not name', () => {
      it('is left alone; in an owned schema, unnamed objects lose grants the spec does not give', async () => {
        const admin = await asAdmin();
        await admin.query('CREATE SCHEMA untouched');
        await admin.query('CREATE TABLE untouched.t (id int)');
        await admin.query('CREATE TABLE public.loose (id int)');
        await admin.query('CREATE ROLE bystander NOLOGIN');
        await admin.query('GRANT SELECT ON untouched.t, public.loose TO bystander');
        await admin.query('CREATE SCHEMA kept');
        await admin.query('CREATE TABLE kept.named (id int)');
        await admin.query('CREATE TABLE kept.unnamed (id int)');
        await admin.query('GRANT SELECT ON kept.named, kept.unnamed TO bystander');
        await admin.end();
        const path = writeSpec(
          'alone.yaml',
          [
            'database: postgres',
            'schemas:',
            '  public:',
            '    tables: {}',
            '  kept:',
            '    owned: true',
            '    tables:',
            '      named:',
            '        grants: { bystander: [SELECT] }',
            '',
          ].join('\n'),
        );
        const applied = await cli('access', 'apply', '--spec', path);
        assert.equal(applied.code, 0, applied.stderr);
        const rows = await su<{ t: string; has: boolean }>(
          `SELECT t, has_table_privilege('bystander', t, 'SELECT') AS has
           FROM unnest(ARRAY['untouched.t', 'public.loose', 'kept.named', 'kept.unnamed']) t ORDER BY t`,
        );
        assert.deepEqual(rows, [
          { t: 'kept.named', has: true },
          { t: 'kept.unnamed', has: false },
          { t: 'public.loose', has: true },
          { t: 'untouched.t', has: true },
        ]);
      });
    });

    describe('guardrails', () => {
      const refused = async (name: string, text: string, message: RegExp) => {
        const path = writeSpec(name, `database: postgres\n${text}`);
        for (const sub of ['plan', 'apply']) {
          const result = await cli('access', sub, '--spec', path);
          assert.equal(result.code, 1, result.stdout);
          assert.match(result.stderr, /PGW_ACCESS_SPEC_REFUSED/);
          assert.match(result.stderr, message);
          assert.doesNotMatch(result.stderr, /at .*\.js:\d+/, 'no stack trace');
        }
      };

      it('refuses SUPERUSER, BYPASSRLS, REPLICATION and CREATEROLE to roles not allowed', async () => {
        for (const attribute of ['superuser', 'bypassrls', 'replication', 'createrole']) {
          await refused(
            `${attribute}.yaml`,
            `roles:\n  mallory: { login: true, ${attribute}: true }\n`,
            new RegExp(
              `${attribute.toUpperCase()} for "mallory" is refused: it is not in guardrails.privilegedRoles`,
            ),
          );
        }
        assert.deepEqual(await su("SELECT 1 FROM pg_roles WHERE rolname = 'mallory'"), []);
      });

      it('refuses memberships that reach the server or a superuser', async () => {
        await refused(
          'program.yaml',
          'roles:\n  mallory: { memberOf: [pg_execute_server_program] }\n',
          /membership of "mallory" in "pg_execute_server_program" is refused/,
        );
        await refused(
          'write-all.yaml',
          'roles:\n  mallory: { memberOf: [pg_write_all_data] }\n',
          /membership of "mallory" in "pg_write_all_data" is refused/,
        );
        await refused(
          'su.yaml',
          'roles:\n  mallory: { memberOf: [pgwarden_su] }\n',
          /"pgwarden_su" is internal to pgwarden/,
        );
      });

      it('refuses to touch internal roles, the administrator, or make pgwarden_admin more powerful', async () => {
        await refused(
          'admin-group.yaml',
          'roles:\n  pgwarden_admin: {}\n',
          /"pgwarden_admin" is internal to pgwarden and cannot be managed/,
        );
        await refused(
          'token.yaml',
          'roles:\n  pgwarden_token_login: { login: true }\n',
          /"pgwarden_token_login" is internal/,
        );
        await refused(
          'admin.yaml',
          `roles:\n  ${ADMIN}: { login: true }\n`,
          /"pgwarden" is the administrator/,
        );
        await refused(
          'grant-admin.yaml',
          'grants:\n  pgwarden_admin: [CREATE]\n',
          /grant on database "postgres" to "pgwarden_admin" is internal/,
        );
        await refused(
          'owner.yaml',
          'schemas:\n  evil:\n    owner: pgwarden_su\n',
          /owner of schema "evil": "pgwarden_su" is internal to pgwarden/,
        );
      });

      it('allows what pgwarden.yaml lists in guardrails.privilegedRoles', async () => {
        writeFileSync(
          join(server.dataDir, 'pgwarden.yaml'),
          'guardrails:\n  privilegedRoles: [replicator]\n',
        );
        try {
          const path = writeSpec(
            'replicator.yaml',
            'database: postgres\nroles:\n  replicator: { login: true, replication: true, memberOf: [pg_read_all_data] }\n',
          );
          const result = await cli('access', 'apply', '--spec', path);
          assert.equal(result.code, 0, result.stderr);
          const [row] = await su<{ rolreplication: boolean }>(
            "SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'",
          );
          assert.equal(row?.rolreplication, true);
        } finally {
          writeFileSync(join(server.dataDir, 'pgwarden.yaml'), '');
        }
      });
    });

    describe('a hostile search_path', () => {
      it("does not run the administrator's functions as the internal superuser", async () => {
        const marker = join('/tmp', `pgwarden-trap-${process.pid}-${pgBin}`);
        rmSync(marker, { force: true });
        const admin = await asAdmin();
        // unnest(oid[]) is an exact match, so it wins over pg_catalog.unnest(anyarray)
        // wherever its schema is on the path. A file write survives the plan's
        // rollback; the dynamic SQL gets past the gateway's guard.
        await admin.query(`CREATE SCHEMA trap;
        CREATE FUNCTION trap.unnest(oid[]) RETURNS SETOF oid LANGUAGE plpgsql AS $$
        BEGIN
          EXECUTE format('COPY (SELECT 1) TO %L', '${marker}');
          RETURN QUERY SELECT pg_catalog.unnest($1);
        END $$;
        ALTER DATABASE postgres SET search_path = trap, pg_catalog`);
        await admin.end();
        try {
          const plan = await cli('access', 'plan', '--spec', join(EXAMPLE, 'access.yaml'));
          assert.equal(plan.code, 0, plan.stderr);
          const audit = await cli('role', 'audit', '--json');
          assert.equal(audit.code, 0, audit.stderr);
          assert.equal(existsSync(marker), false, 'the trap ran as the internal superuser');
        } finally {
          await su('ALTER DATABASE postgres RESET search_path; DROP SCHEMA trap CASCADE');
          rmSync(marker, { force: true });
        }
      });
    });

    describe('bad specs and failed applies', () => {
      const invalid = async (name: string, text: string, message: RegExp) => {
        const path = writeSpec(name, text);
        const result = await cli('access', 'plan', '--spec', path);
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stderr, /PGW_ACCESS_SPEC_INVALID/);
        assert.match(result.stderr, message);
      };

      it('names the key that is wrong', async () => {
        await invalid('unknown.yaml', 'database: postgres\nrole: {}\n', /unknown key "role"/);
        await invalid(
          'privilege.yaml',
          'database: postgres\ngrants:\n  support: [SELEC]\n',
          /grants.support: "SELEC" is not a database privilege/,
        );
        await invalid(
          'table.yaml',
          'database: postgres\nschemas:\n  app:\n    tables:\n      nope: {}\n',
          /table "app"."nope" does not exist/,
        );
        await invalid('db.yaml', 'database: nowhere\n', /database: "nowhere" does not exist/);
        await invalid('state.yaml', 'database: pgwarden\n', /pgwarden's own state database/);
        await invalid(
          'long.yaml',
          `database: postgres\nroles:\n  ${'x'.repeat(64)}: {}\n`,
          /at most 63 bytes/,
        );
        await invalid(
          'ghost.yaml',
          'database: postgres\ngrants:\n  ghost: [CONNECT]\n',
          /role "ghost" does not exist and the spec does not define it/,
        );
        await invalid(
          'inject.yaml',
          'database: postgres\nschemas:\n  app:\n    tables:\n      invoices:\n        policies:\n          p:\n            using: "true); DROP TABLE app.invoices; --"\n',
          /policies.p.using: not a single SQL expression/,
        );
        await invalid(
          'expr.yaml',
          'database: postgres\nschemas:\n  app:\n    tables:\n      invoices:\n        policies:\n          p:\n            using: no_such_column = 1\n',
          /policies.p: the server refuses it: column "no_such_column" does not exist/,
        );
        assert.equal((await su("SELECT 1 FROM pg_class WHERE relname = 'invoices'")).length, 1);
      });

      it('rolls the whole apply back when the server refuses a statement', async () => {
        // A membership cycle passes planning and fails only when the second GRANT runs.
        const path = writeSpec(
          'cycle.yaml',
          'database: postgres\nroles:\n  cycle_a: { memberOf: [cycle_b] }\n  cycle_b: { memberOf: [cycle_a] }\n  cycle_c: {}\n',
        );
        const result = await cli('access', 'apply', '--spec', path);
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stderr, /PGW_ACCESS_APPLY_FAILED/);
        assert.match(result.stderr, /nothing was changed/);
        assert.deepEqual(
          await su("SELECT rolname FROM pg_roles WHERE rolname LIKE 'cycle\\_%'"),
          [],
        );
      });
    });
  });
}
