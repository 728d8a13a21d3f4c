import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardrailViolations } from '../../../src/control/access-spec/access-guardrails.js';
import type { CatalogState, LiveRole } from '../../../src/control/access-spec/catalog-state.js';
import { expandAccessSpec } from '../../../src/control/access-spec/desired-access.js';
import { parseAccessSpec } from '../../../src/control/access-spec/load-access-spec.js';
import { isSingleExpression } from '../../../src/control/access-spec/policy-expression.js';
import { normalizePrivileges } from '../../../src/control/access-spec/privilege-kinds.js';

const role = (name: string, extra: Partial<LiveRole> = {}): [string, LiveRole] => [
  name,
  {
    name,
    login: false,
    superuser: false,
    createdb: false,
    createrole: false,
    inherit: true,
    replication: false,
    bypassrls: false,
    connectionLimit: -1,
    validUntil: null,
    comment: null,
    ...extra,
  },
];

/** A catalog as readCatalogState returns it: data, not a database. */
const catalog = (roles: [string, LiveRole][] = []): CatalogState => ({
  serverVersionNum: 150000,
  database: { name: 'app', owner: 'pgwarden_admin', grants: [] },
  roles: new Map([
    role('pgwarden_su', { superuser: true }),
    role('postgres', { superuser: true }),
    ...roles,
  ]),
  memberships: [],
  schemas: new Map(),
  relations: new Map(),
  policies: [],
  functions: [],
  defaultAcls: [],
});

describe('access spec parsing', () => {
  it('fills secure defaults for a role', () => {
    const spec = parseAccessSpec({ database: 'app', roles: { web: { login: true } } }, 'test');
    assert.deepEqual(spec.roles.web, {
      login: true,
      superuser: false,
      createdb: false,
      createrole: false,
      inherit: true,
      replication: false,
      bypassrls: false,
      connectionLimit: -1,
      memberOf: [],
    });
  });

  it('names the key of an error', () => {
    assert.throws(
      () => parseAccessSpec({ database: 'app', roles: { x: { superuse: true } } }, 'f.yaml'),
      {
        message: 'f.yaml: unknown key "roles.x.superuse"',
      },
    );
    assert.throws(
      () => parseAccessSpec({ database: 'app', roles: { ['é'.repeat(32)]: {} } }, 'f.yaml'),
      {
        message: /at most 63 bytes/,
      },
    );
    assert.throws(() => parseAccessSpec({}, 'f.yaml'), { message: /f.yaml: database: / });
  });

  it('reads policy commands and types in any case', () => {
    const spec = parseAccessSpec(
      {
        database: 'app',
        schemas: {
          s: { tables: { t: { policies: { p: { command: 'select', type: 'Restrictive' } } } } },
        },
      },
      'test',
    );
    const policy = spec.schemas.s?.tables.t?.policies?.p;
    assert.equal(policy?.command, 'SELECT');
    assert.equal(policy?.type, 'restrictive');
  });
});

describe('privilege names', () => {
  it('expands ALL and keeps the catalog order', () => {
    assert.deepEqual(normalizePrivileges('sequence', ['ALL']), {
      privileges: ['USAGE', 'SELECT', 'UPDATE'],
    });
    assert.deepEqual(normalizePrivileges('table', ['DELETE', 'SELECT']), {
      privileges: ['SELECT', 'DELETE'],
    });
    assert.deepEqual(normalizePrivileges('database', ['TEMP', 'CONNECT']), { unknown: 'TEMP' });
    assert.deepEqual(normalizePrivileges('column', ['DELETE']), { unknown: 'DELETE' });
  });
});

describe('policy expressions', () => {
  it('accepts one expression', async () => {
    for (const text of [
      'tenant_id = current_user',
      "owner = 'it''s' OR (a AND b)",
      'EXISTS (SELECT 1 FROM m WHERE m.u = current_user)',
    ]) {
      assert.equal(await isSingleExpression(text), true, text);
    }
  });

  it('refuses anything that closes the parenthesis', async () => {
    for (const text of [
      'true); DROP TABLE t; --',
      'a) WITH CHECK (b',
      'a) FROM t WHERE (b',
      'a), (b',
      'true) --',
      'true -- the rest of the line is gone',
      'a /* ) WITH CHECK (true */',
      '',
    ]) {
      assert.equal(await isSingleExpression(text), false, text);
    }
  });
});

describe('guardrails', () => {
  const refusals = (spec: unknown, privilegedRoles: string[] = [], live = catalog()) =>
    guardrailViolations(expandAccessSpec(parseAccessSpec(spec, 'test'), live, new Map()), live, {
      adminUser: 'admin',
      privilegedRoles,
    });

  it('refuses privileged attributes unless allowed', () => {
    const spec = { database: 'app', roles: { r: { replication: true, bypassrls: true } } };
    assert.equal(refusals(spec).length, 2);
    assert.deepEqual(refusals(spec, ['r']), []);
  });

  it('refuses memberships in privileged, internal and superuser roles', () => {
    const spec = (parent: string) => ({ database: 'app', roles: { r: { memberOf: [parent] } } });
    assert.match(refusals(spec('pg_write_server_files'))[0] ?? '', /reaches server files/);
    assert.match(refusals(spec('pgwarden_token_login'))[0] ?? '', /internal to pgwarden/);
    assert.match(refusals(spec('postgres'))[0] ?? '', /"postgres" is a superuser/);
    assert.deepEqual(refusals(spec('pg_monitor')), []);
  });

  it('refuses internal roles, the administrator and pg_ names as spec roles', () => {
    for (const name of ['pgwarden_admin', 'admin', 'pg_monitor', 'PUBLIC']) {
      assert.equal(refusals({ database: 'app', roles: { [name]: {} } }).length, 1, name);
    }
  });

  it('refuses grants to internal roles', () => {
    assert.match(
      refusals({ database: 'app', grants: { pgwarden_admin: ['CONNECT'] } })[0] ?? '',
      /grant on database "app" to "pgwarden_admin"/,
    );
  });
});
