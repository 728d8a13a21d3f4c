import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 2, items 5 and 6: every secure default and the role model, read back
 * from the running server as pgwarden_su over the private socket, and checked
 * as the administrator where it is about what that role may do.
 */
for (const { pgBin, version } of await testBinarySources()) {
  describe(`secure defaults (${pgBin} PostgreSQL ${version})`, () => {
    let su: pg.Client | undefined;
    after(() => su?.end().catch(() => undefined)); // registered first, so it runs before the teardown
    const server = TempServer.create(pgBin, (fn) => after(fn));
    before(async () => {
      await server.up();
      su = await server.superuser();
    });
    const query = (sql: string, params: unknown[] = []) => {
      if (su === undefined) throw new Error('no superuser connection');
      return su.query(sql, params);
    };

    const setting = async (name: string): Promise<{ setting: string; source: string }> => {
      const r = await query('SELECT setting, source FROM pg_settings WHERE name = $1', [name]);
      assert.equal(r.rowCount, 1, `pg_settings has ${name}`);
      return r.rows[0] as { setting: string; source: string };
    };

    it('turns data checksums on and uses UTF8', async () => {
      assert.equal((await setting('data_checksums')).setting, 'on');
      assert.equal((await setting('server_encoding')).setting, 'UTF8');
      const dbs = await query(
        "SELECT datname, pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname IN ('postgres','template1','pgwarden')",
      );
      assert.equal(dbs.rowCount, 3);
      for (const row of dbs.rows) assert.equal(row.enc, 'UTF8', row.datname);
    });

    it('stores passwords as SCRAM-SHA-256, fixed on the command line', async () => {
      const s = await setting('password_encryption');
      assert.equal(s.setting, 'scram-sha-256');
      assert.equal(s.source, 'command line');
    });

    it('has no TCP listener and a private socket directory', async () => {
      const listen = await setting('listen_addresses');
      assert.equal(listen.setting, '');
      assert.equal(listen.source, 'command line');
      assert.equal((await setting('unix_socket_directories')).setting, server.layout.socketDir);
      assert.equal((await setting('unix_socket_permissions')).setting, '0700');
      assert.equal(statSync(server.layout.socketDir).mode & 0o777, 0o700);
      assert.equal(statSync(server.layout.pgdata).mode & 0o777, 0o700);
    });

    it('logs connections, disconnections and checkpoints', async () => {
      const connections = (await setting('log_connections')).setting;
      // PostgreSQL 18 reports the aspects that "on" stands for.
      assert.ok(connections === 'on' || connections.includes('authorization'), connections);
      assert.equal((await setting('log_disconnections')).setting, 'on');
      assert.equal((await setting('log_checkpoints')).setting, 'on');
    });

    it('admits only the local socket in pg_hba.conf, the superuser by peer only, no password only for token-login roles', async () => {
      const rules = await query(
        'SELECT type, user_name, auth_method, error FROM pg_hba_file_rules',
      );
      assert.ok(rules.rowCount !== null && rules.rowCount > 0);
      for (const rule of rules.rows) {
        assert.equal(rule.error, null);
        assert.equal(rule.type, 'local', 'no host lines: nothing from the network');
        if (rule.auth_method === 'trust') {
          // Only for roles mapped to identity principals, opened by the gateway after a token (ADR 11).
          assert.deepEqual(rule.user_name, ['+pgwarden_token_login']);
        } else {
          assert.ok(['peer', 'scram-sha-256'].includes(rule.auth_method), rule.auth_method);
        }
        if (rule.user_name.includes('pgwarden_su')) assert.equal(rule.auth_method, 'peer');
      }
      const su_ = await query(
        "SELECT rolpassword, rolsuper FROM pg_authid WHERE rolname = 'pgwarden_su'",
      );
      assert.deepEqual(su_.rows[0], { rolpassword: null, rolsuper: true });
    });

    it('creates pgwarden_admin as a pseudo-superuser, not a superuser', async () => {
      const r = await query(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'pgwarden_admin'",
      );
      assert.deepEqual(r.rows[0], {
        rolsuper: false,
        rolcreaterole: true,
        rolcreatedb: true,
        rolreplication: false,
        rolbypassrls: false,
        rolcanlogin: false,
      });
      const granted = await query(
        `SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
          WHERE m.member = 'pgwarden_admin'::regrole ORDER BY 1`,
      );
      assert.deepEqual(
        granted.rows.map((row) => row.rolname),
        ['pg_monitor', 'pg_read_all_settings', 'pg_signal_backend'],
      );
    });

    it('creates the administrator login with a SCRAM verifier, as a member of pgwarden_admin', async () => {
      const r = await query(
        `SELECT rolpassword, rolsuper, pg_has_role('pgwarden', 'pgwarden_admin', 'MEMBER') AS member
           FROM pg_authid WHERE rolname = 'pgwarden'`,
      );
      const row = r.rows[0];
      assert.ok(row !== undefined);
      assert.match(row.rolpassword, /^SCRAM-SHA-256\$4096:/);
      assert.equal(row.rolsuper, false);
      assert.equal(row.member, true);
      assert.equal(statSync(server.layout.adminPassword).mode & 0o777, 0o600);
    });

    it('lets the administrator create roles and databases but not become superuser', async () => {
      const admin = await server.connectAs('pgwarden', server.adminPassword());
      try {
        assert.equal((await admin.query('SELECT current_user AS u')).rows[0].u, 'pgwarden');
        await admin.query("CREATE ROLE app_reader LOGIN PASSWORD 'a-long-password-1'");
        await admin.query('CREATE DATABASE app');
        await assert.rejects(admin.query('ALTER ROLE pgwarden SUPERUSER'), { code: '42501' });
        await assert.rejects(admin.query('ALTER ROLE pgwarden_admin SUPERUSER'), { code: '42501' });
        await assert.rejects(admin.query('CREATE ROLE sneaky SUPERUSER'), { code: '42501' });
        // The monitoring roles come through membership.
        assert.equal(
          (await admin.query("SELECT pg_has_role('pg_monitor', 'USAGE') AS ok")).rows[0].ok,
          true,
        );
      } finally {
        await admin.end();
      }
    });

    it('revokes CREATE on schema public from PUBLIC, in existing and new databases', async () => {
      // postgres belongs to pgwarden_admin (as on managed clouds); template1 to nobody but pgwarden_su.
      const expected = { postgres: { c: false, a: true }, template1: { c: false, a: false } };
      for (const [database, privileges] of Object.entries(expected)) {
        const db = await server.superuser(database);
        try {
          const r = await db.query(
            "SELECT has_schema_privilege('public', 'public', 'CREATE') AS c, has_schema_privilege('pgwarden', 'public', 'CREATE') AS a",
          );
          assert.deepEqual(r.rows[0], privileges, database);
        } finally {
          await db.end();
        }
      }
      const admin = await server.connectAs('pgwarden', server.adminPassword());
      try {
        await admin.query("CREATE ROLE plain LOGIN PASSWORD 'another-long-password'");
        await admin.query('CREATE TABLE admin_owned (id int)');
      } finally {
        await admin.end();
      }
      const plain = await server.connectAs('plain', 'another-long-password');
      try {
        await assert.rejects(plain.query('CREATE TABLE not_allowed (id int)'), { code: '42501' });
      } finally {
        await plain.end();
      }
    });

    it('keeps the state database private and migrated', async () => {
      const admin = server.connectAs('pgwarden', server.adminPassword(), 'pgwarden');
      await assert.rejects(admin, { code: '42501' });
      const state = await server.superuser('pgwarden');
      try {
        const r = await state.query<{ version: number }>(
          'SELECT version FROM pgwarden.schema_migrations ORDER BY 1',
        );
        assert.ok(r.rows.length >= 1);
        assert.equal(r.rows[0]?.version, 1);
        await state.query('SELECT count(*) FROM pgwarden.parameter_changes');
      } finally {
        await state.end();
      }
    });
  });
}
