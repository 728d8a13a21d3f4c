import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isAlive } from '../../src/server/postgres-process.js';
import { foregroundUp } from '../helpers/foreground-up.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/** Issue 2, item 4: up/down/status, idempotence, crash recovery, data kept across all of it. */
for (const { pgBin, version } of await testBinarySources()) {
  describe(`lifecycle (${pgBin} PostgreSQL ${version})`, () => {
    it('keeps data across down/up and a kill -9 of every process', async (t) => {
      const server = TempServer.create(pgBin, (fn) => t.after(fn));
      await server.up();
      const admin = await server.connectAs('pgwarden', server.adminPassword());
      await admin.query('CREATE TABLE kept (v text)');
      await admin.query("INSERT INTO kept VALUES ('before')");
      await admin.end();

      // Idempotent up: a second one sees the running supervisor and leaves it alone.
      const again = await server.cli(['up', '--detach']);
      assert.equal(again.code, 0);
      assert.match(again.stdout, /already running/);

      const status = await server.cli(['status', '--json']);
      assert.equal(status.code, 0);
      const parsed = JSON.parse(status.stdout) as {
        state: string;
        postgres: { pid: number; version: string };
      };
      assert.equal(parsed.state, 'running');
      assert.equal(parsed.postgres.pid, server.postmasterPid());
      assert.ok(parsed.postgres.version.startsWith(version), parsed.postgres.version);

      const down = await server.cli(['down']);
      assert.equal(down.code, 0);
      assert.match(down.stdout, /stopped/);
      assert.equal(
        existsSync(`${server.layout.pgdata}/postmaster.pid`),
        false,
        'clean shutdown removes postmaster.pid',
      );
      const downAgain = await server.cli(['down']);
      assert.equal(downAgain.code, 0);
      assert.match(downAgain.stdout, /not running/);
      const stopped = await server.cli(['status']);
      assert.equal(stopped.code, 3);
      assert.match(stopped.stdout, /state\s+stopped/);

      await server.up();
      const supervisor = server.supervisorPid();
      const postmaster = server.postmasterPid();
      assert.ok(supervisor !== undefined && postmaster !== undefined);
      // Crash: SIGKILL the supervisor and the whole PostgreSQL process group.
      process.kill(supervisor, 'SIGKILL');
      process.kill(-postmaster, 'SIGKILL');
      await waitFor(() => !isAlive(postmaster) && !isAlive(supervisor));
      assert.equal(
        existsSync(`${server.layout.pgdata}/postmaster.pid`),
        true,
        'a crash leaves the lock file',
      );

      await server.up();
      assert.notEqual(server.postmasterPid(), postmaster);
      const after = await server.connectAs('pgwarden', server.adminPassword());
      const rows = await after.query('SELECT v FROM kept');
      assert.deepEqual(rows.rows, [{ v: 'before' }]);
      await after.end();
    });

    it('adopts a PostgreSQL left running when only the supervisor died', async (t) => {
      const server = TempServer.create(pgBin, (fn) => t.after(fn));
      await server.up();
      const supervisor = server.supervisorPid();
      const postmaster = server.postmasterPid();
      assert.ok(supervisor !== undefined && postmaster !== undefined);
      process.kill(supervisor, 'SIGKILL');
      await waitFor(() => !isAlive(supervisor));
      const status = await server.cli(['status']);
      assert.match(status.stdout, /state\s+unsupervised/);
      const up = await server.up();
      assert.match(up.stdout, /ready/);
      assert.equal(server.postmasterPid(), postmaster, 'the same postmaster, not a restart');
      const down = await server.cli(['down']);
      assert.equal(down.code, 0);
      assert.equal(isAlive(postmaster), false);
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`runs in the foreground and stops everything on ${signal}`, async (t) => {
        const server = TempServer.create(pgBin, (fn) => t.after(fn));
        const up = foregroundUp(
          ['--data-dir', server.dataDir, '--pg-bin', pgBin],
          process.cwd(),
          (fn) => t.after(fn),
        );
        await up.ready();
        assert.match(up.stdout(), /ready: the gateway listens on 127\.0\.0\.1:\d+/, up.stderr());
        assert.match(up.stdout(), /password, shown only this once/);
        const postmaster = server.postmasterPid();
        assert.ok(postmaster !== undefined && isAlive(postmaster));
        assert.equal(await up.stop(signal), 0, up.stderr());
        assert.match(up.stdout(), /stopped/);
        assert.equal(isAlive(postmaster), false);
        assert.equal(existsSync(server.layout.supervisorPid), false);
      });
    }
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
