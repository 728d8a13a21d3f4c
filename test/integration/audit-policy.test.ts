import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/** Issue 4, item 3: `pgwarden audit configure` changes the policy of running gateways for new sessions. */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

describe(`audit configure (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  before(() => server.up());

  const logText = (): string =>
    readdirSync(join(server.dataDir, 'audit'))
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(server.dataDir, 'audit', f), 'utf8'))
      .join('');

  const runSelect = async (marker: number): Promise<void> => {
    const client = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    await client.connect();
    try {
      await client.query(`SELECT ${marker} AS marker`);
    } finally {
      await client.end();
    }
  };

  /** Waits until the session's close record is in, so the statement's record would be too. */
  const settle = async (): Promise<void> => {
    const closed = (): number => logText().split('"event":"session.closed"').length;
    const before_ = closed();
    const deadline = Date.now() + 5000;
    while (closed() === before_ && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
  };

  it('audits reads only once a role override asks for them, and stops after --reset', async () => {
    await runSelect(4201);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.doesNotMatch(logText(), /SELECT 4201/, 'the default policy does not audit reads');

    const set = await server.cli([
      'audit',
      'configure',
      '--role',
      'pgwarden',
      '--log',
      'connection,read',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /role\s+pgwarden: connection, read/);
    const shown = JSON.parse((await server.cli(['audit', 'configure', '--json'])).stdout) as {
      log: string[];
      roles: Record<string, string[]>;
    };
    assert.deepEqual(shown.roles.pgwarden, ['connection', 'read']);
    assert.deepEqual(shown.log, ['connection', 'ddl', 'role', 'write']);

    // Running gateways pick it up by NOTIFY; poll for up to 3 s with fresh sessions.
    const deadline = Date.now() + 3000;
    let marker = 4300;
    do {
      marker++;
      await runSelect(marker);
      await settle();
    } while (!logText().includes(`SELECT ${marker} AS marker`) && Date.now() < deadline);
    assert.match(logText(), new RegExp(`"statement":"SELECT ${marker} AS marker"`));

    const reset = await server.cli(['audit', 'configure', '--role', 'pgwarden', '--reset']);
    assert.equal(reset.code, 0, reset.stderr);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await runSelect(4999);
    await settle();
    assert.doesNotMatch(logText(), /SELECT 4999/);
  });

  it('refuses an unknown class with a usage error', async () => {
    const bad = await server.cli(['audit', 'configure', '--log', 'ddl,everything']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not audit classes: everything \(PGW_USAGE\)/);
  });
});
