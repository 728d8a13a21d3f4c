import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { findBinaries } from '../../src/server/pg-binaries.js';
import { TempServer } from '../helpers/temp-server.js';

/** Issue 4, item 6: pgaudit on the managed server, where it is installed. */
const system = await findBinaries('system');
const pgauditInstalled =
  system.chosen !== undefined && existsSync(join(system.chosen.pkgLibDir, 'pgaudit.so'));

describe('server-side audit (pgaudit)', () => {
  it('loads pgaudit after enable and a restart, and PostgreSQL logs AUDIT lines', {
    skip: pgauditInstalled ? false : 'no pgaudit for the system PostgreSQL',
  }, async (t) => {
    const server = TempServer.create('system', (fn) => t.after(fn));
    await server.up();
    const enable = await server.cli(['audit', 'server-side', 'enable']);
    assert.equal(enable.code, 0, enable.stderr);
    assert.match(enable.stdout, /at the next restart/);
    assert.equal((await server.cli(['down'])).code, 0);
    await server.up();
    const status = JSON.parse((await server.cli(['status', '--json'])).stdout) as {
      serverAudit: { active: boolean; log: string };
    };
    assert.equal(status.serverAudit.active, true);
    assert.equal(status.serverAudit.log, 'ddl, role, write');
    const client = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    await client.connect();
    try {
      await client.query('CREATE TABLE seen_by_pgaudit (a int)');
    } finally {
      await client.end();
    }
    const deadline = Date.now() + 5000;
    const logged = (): boolean =>
      /AUDIT: SESSION,\d+,\d+,DDL,CREATE TABLE,TABLE,public\.seen_by_pgaudit/.test(
        readFileSync(server.layout.postgresLog, 'utf8'),
      );
    while (!logged() && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(logged(), 'PostgreSQL wrote the AUDIT line');
  });

  it('says how to get pgaudit when the binaries have none', async (t) => {
    const server = TempServer.create('embedded', (fn) => t.after(fn));
    await server.up();
    const enable = await server.cli(['audit', 'server-side', 'enable']);
    assert.equal(enable.code, 1);
    assert.match(enable.stderr, /PGW_AUDIT_SERVER_SIDE_UNAVAILABLE/);
    assert.match(enable.stderr, /hint: /);
  });
});
