import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AuditedRole, RoleAudit } from '../../src/control/roles/role-audit.js';
import {
  FINDINGS,
  hasFindingAtLeast,
  roleFindings,
  unusedStatus,
} from '../../src/control/roles/role-findings.js';

const NOW = new Date('2025-06-01T00:00:00Z');
const OPTIONS = { unusedDays: 90, now: NOW };

function role(name: string, changes: Partial<AuditedRole['attributes']> = {}): AuditedRole {
  return {
    name,
    internal: name.startsWith('pgwarden_'),
    attributes: {
      login: true,
      superuser: false,
      bypassRls: false,
      createRole: false,
      createDb: false,
      replication: false,
      inherit: true,
      connectionLimit: -1,
      ...changes,
    },
    memberOf: [],
    password: {
      method: 'SCRAM-SHA-256',
      validUntil: '2100-01-01T00:00:00.000Z',
      expired: false,
      setAt: 'unknown',
      ageDays: 'unknown',
    },
    lastLogin: null,
    owned: {},
    rlsBypass: { superuser: false, bypassRls: false, tables: [] },
  };
}

function audit(roles: AuditedRole[], since: string | null, extra: Partial<RoleAudit> = {}) {
  return {
    generatedAt: NOW.toISOString(),
    adminUser: 'pgwarden',
    auditLog: { available: since !== null, since },
    roles,
    publicSchemaPrivileges: [],
    adminApplications: [],
    ...extra,
  } satisfies RoleAudit;
}

describe('role findings', () => {
  it('reports a login SUPERUSER as critical, and not also as BYPASSRLS', () => {
    const findings = roleFindings(
      audit([role('root', { superuser: true, bypassRls: true })], null),
      OPTIONS,
    );
    assert.deepEqual(
      findings.map((f) => [f.id, f.severity, f.role]),
      [['login-superuser', 'critical', 'root']],
    );
  });

  it('never makes an internal role the subject of a finding', () => {
    const su = role('pgwarden_su', { superuser: true });
    assert.deepEqual(roleFindings(audit([su], null), OPTIONS), []);
    assert.equal(unusedStatus(audit([su], '2020-01-01T00:00:00Z'), su, OPTIONS), null);
  });

  it('reports unused login roles only when the audit log covers the window', () => {
    const idle = { ...role('idle'), lastLogin: '2025-01-01T00:00:00Z' };
    const busy = { ...role('busy'), lastLogin: '2025-05-30T00:00:00Z' };
    const silent = role('silent');
    const group = role('group', { login: false });
    const young = audit([idle, busy, silent, group], '2025-04-01T00:00:00Z');
    assert.ok(!roleFindings(young, OPTIONS).some((f) => f.id === 'unused-login-role'));
    assert.equal(unusedStatus(young, idle, OPTIONS), 'unknown');

    const old = audit([idle, busy, silent, group], '2024-01-01T00:00:00Z');
    const unused = roleFindings(old, OPTIONS).filter((f) => f.id === 'unused-login-role');
    assert.deepEqual(unused.map((f) => f.role).sort(), ['idle', 'silent']);
    assert.equal(unusedStatus(old, busy, OPTIONS), false);
    assert.equal(unusedStatus(old, group, OPTIONS), null);
    assert.equal(
      roleFindings(old, { ...OPTIONS, unusedDays: 365 }).filter((f) => f.id === 'unused-login-role')
        .length,
      1, // the log still reaches back 365 days; only the role never seen is unused
    );
  });

  it('exempts interactive administrator logins (none, psql, pgwarden)', () => {
    const apps = ['', 'psql', 'pgwarden', 'billing'].map((applicationName) => ({
      applicationName,
      logins: 2,
      lastLogin: '2025-05-01T00:00:00Z',
    }));
    const findings = roleFindings(audit([], null, { adminApplications: apps }), OPTIONS);
    assert.deepEqual(
      findings.map((f) => [f.id, f.role, f.object]),
      [['admin-used-by-application', 'pgwarden', 'billing']],
    );
  });

  it('tells CREATE from mere USAGE for PUBLIC on a schema', () => {
    const findings = roleFindings(
      audit([], null, {
        publicSchemaPrivileges: [
          { database: 'app', schema: 'public', privileges: ['CREATE', 'USAGE'] },
          { database: 'app', schema: 'ext', privileges: ['USAGE'] },
        ],
      }),
      OPTIONS,
    );
    assert.deepEqual(
      findings.map((f) => [f.id, f.severity, f.object]),
      [
        ['public-create-on-schema', 'high', 'app.public'],
        ['public-usage-on-schema', 'low', 'app.ext'],
      ],
    );
  });

  it('compares severities for --fail-on', () => {
    const findings = roleFindings(audit([role('x', { bypassRls: true })], null), OPTIONS);
    assert.ok(hasFindingAtLeast(findings, 'high'));
    assert.ok(hasFindingAtLeast(findings, 'info'));
    assert.ok(!hasFindingAtLeast(findings, 'critical'));
    assert.ok(!hasFindingAtLeast([], 'info'));
  });

  it('documents every finding id with its severity in docs/roles.md', () => {
    const doc = readFileSync(new URL('../../../docs/roles.md', import.meta.url), 'utf8');
    const rows = new Map<string, string>();
    for (const line of doc.split('\n')) {
      const match = /^\| `([a-z0-9-]+)` \| (\w+) \|/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2]);
    }
    assert.deepEqual(Object.fromEntries(rows), FINDINGS);
  });
});
