import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { AuditedRole } from '../../src/control/roles/role-audit.js';
import type { Finding } from '../../src/control/roles/role-findings.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/** Issue 6, item 4: `pgwarden role audit` against a real server with planted weaknesses. */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';
const ADMIN = 'pgwarden';
const LATER = "VALID UNTIL '2100-01-01'";

interface Report {
  adminUser: string;
  auditLog: { available: boolean; since: string | null };
  roles: (AuditedRole & { unused: boolean | 'unknown' | null })[];
  findings: Finding[];
}

describe(`pgwarden role audit (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  let report: Report;

  before(async () => {
    await server.up();
    const su = await server.superuser();
    try {
      await su.query(`CREATE ROLE rls_bypasser LOGIN BYPASSRLS PASSWORD 'pw-1' ${LATER}`);
      await su.query(`CREATE ROLE forever LOGIN PASSWORD 'pw-2'`);
      await su.query(`CREATE ROLE legacy_md5 LOGIN ${LATER}`);
      await su.query(`SET password_encryption = 'md5'`);
      await su.query(`ALTER ROLE legacy_md5 PASSWORD 'pw-3'`);
      await su.query('RESET password_encryption');
      await su.query('CREATE ROLE readers NOLOGIN');
      await su.query('CREATE ROLE staff NOLOGIN');
      await su.query('GRANT readers TO staff');
      await su.query('GRANT staff TO forever');
      await su.query('CREATE SCHEMA shared');
      await su.query('GRANT CREATE ON SCHEMA shared TO PUBLIC');
    } finally {
      await su.end();
    }
    // Through the gateway, so the audit log records when the password was set.
    const admin = new pg.Client({
      ...server.gatewayClientConfig(ADMIN, server.adminPassword()),
      application_name: 'psql',
    });
    await admin.connect();
    await admin.query(`CREATE ROLE app_owner LOGIN PASSWORD 'Owner-Passw0rd-2026-#4' ${LATER}`);
    await admin.end();
    const su2 = await server.superuser();
    try {
      await su2.query('CREATE TABLE public.accounts (id int, owner text)');
      await su2.query('ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY');
      await su2.query('ALTER TABLE public.accounts OWNER TO app_owner');
      await su2.query('GRANT app_owner TO staff');
    } finally {
      await su2.end();
    }
    const app = new pg.Client({
      ...server.gatewayClientConfig(ADMIN, server.adminPassword()),
      application_name: 'myapp',
    });
    await app.connect();
    await app.query('SELECT 1');
    await app.end();
    await sleep(300); // the audit writer batches for a few milliseconds
    const result = await server.cli(['role', 'audit', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    report = JSON.parse(result.stdout) as Report;
  });

  const role = (name: string): Report['roles'][number] => {
    const found = report.roles.find((r) => r.name === name);
    assert.ok(found, `role ${name} is listed`);
    return found;
  };

  it('reports each planted weakness exactly once, with its id and severity', () => {
    const expected: [string, string, { role?: string; object?: string }][] = [
      ['login-bypassrls', 'high', { role: 'rls_bypasser' }],
      ['md5-password', 'high', { role: 'legacy_md5' }],
      ['password-never-expires', 'low', { role: 'forever' }],
      ['rls-owner-bypass', 'medium', { role: 'app_owner', object: 'postgres.public.accounts' }],
      ['public-create-on-schema', 'high', { object: 'postgres.shared' }],
      ['admin-used-by-application', 'high', { role: ADMIN, object: 'myapp' }],
    ];
    for (const [id, severity, about] of expected) {
      const matching = report.findings.filter(
        (f) =>
          f.id === id &&
          (about.role === undefined || f.role === about.role) &&
          (about.object === undefined || f.object === about.object),
      );
      assert.equal(
        matching.length,
        1,
        `${id} ${JSON.stringify(about)}: ${JSON.stringify(report.findings)}`,
      );
      assert.equal(matching[0]?.severity, severity, id);
    }
    // Not findings: the psql login of the administrator, internal roles, and
    // roles that merely inherit a table owner's bypass.
    assert.ok(!report.findings.some((f) => f.object === 'psql'));
    assert.ok(!report.findings.some((f) => f.role?.startsWith('pgwarden_')));
    assert.equal(report.findings.filter((f) => f.id === 'rls-owner-bypass').length, 1);
    assert.equal(report.findings.filter((f) => f.id === 'login-bypassrls').length, 1);
    assert.equal(report.findings.filter((f) => f.id === 'md5-password').length, 1);
  });

  it('reports unused roles as unknown while the audit log is younger than the window', () => {
    assert.ok(report.auditLog.available);
    assert.ok(!report.findings.some((f) => f.id === 'unused-login-role'));
    assert.equal(role('forever').unused, 'unknown');
    assert.equal(role('staff').unused, null);
  });

  it('lists attributes, transitive memberships, passwords, ownership and RLS bypass', () => {
    assert.equal(role('rls_bypasser').attributes.bypassRls, true);
    assert.equal(role('legacy_md5').password.method, 'md5');
    assert.equal(role('forever').password.method, 'SCRAM-SHA-256');
    assert.equal(role('forever').password.validUntil, null);
    assert.equal(role('app_owner').password.validUntil, '2100-01-01T00:00:00.000Z');
    assert.equal(role('staff').password.method, 'none');
    assert.deepEqual(role('forever').memberOf, [
      { role: 'app_owner', direct: false },
      { role: 'readers', direct: false },
      { role: 'staff', direct: true },
    ]);
    // Password age: only the role created through the gateway has an audit record.
    assert.match(String(role('app_owner').password.setAt), /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(role('app_owner').password.ageDays, 0);
    assert.equal(role('forever').password.setAt, 'unknown');
    assert.equal(role('staff').password.setAt, null);
    assert.match(String(role(ADMIN).lastLogin), /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(role('forever').lastLogin, null);
    assert.equal(role('app_owner').owned.table, 1);
    const table = { database: 'postgres', schema: 'public', table: 'accounts', owner: 'app_owner' };
    assert.deepEqual(role('app_owner').rlsBypass.tables, [table]);
    assert.deepEqual(role('forever').rlsBypass.tables, [table]); // inherits app_owner's privileges
    assert.deepEqual(role('rls_bypasser').rlsBypass, {
      superuser: false,
      bypassRls: true,
      tables: [],
    });
    assert.equal(role('pgwarden_su').internal, true);
    assert.ok(!report.roles.some((r) => r.name.startsWith('pg_')));
  });

  it('prints a table with one row per role', async () => {
    const result = await server.cli(['role', 'audit']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    for (const { name } of report.roles) {
      const rows = lines.filter((line) => line.split(/\s+/)[0] === name);
      assert.equal(rows.length, 1, `${name}:\n${result.stdout}`);
    }
    assert.match(result.stdout, /high\s+md5-password\s+legacy_md5/);
  });

  it('exits 1 with --fail-on at or below the worst severity, 0 above it, 2 for a bad value', async () => {
    assert.equal((await server.cli(['role', 'audit', '--fail-on', 'high'])).code, 1);
    assert.equal((await server.cli(['role', 'audit', '--json', '--fail-on', 'low'])).code, 1);
    assert.equal((await server.cli(['role', 'audit', '--fail-on', 'critical'])).code, 0);
    const bad = await server.cli(['role', 'audit', '--fail-on', 'severe']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /PGW_USAGE/);
    assert.equal((await server.cli(['role', 'audit', '--unused-days', '0'])).code, 2);
  });
});
