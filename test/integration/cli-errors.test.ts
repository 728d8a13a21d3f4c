import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCommand } from '../../src/util/run-command.js';
import { CLI, type CliResult, cleanEnv, runPgwarden } from '../helpers/pgwarden-cli.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 2, item 9: every bad input gets a one-line error with a stable code,
 * a hint, a non-zero exit status, no stack trace, and loses nothing.
 */
function assertCleanError(result: CliResult, code: string, message: RegExp, exit = 1): void {
  assert.equal(result.code, exit, `exit status; stderr:\n${result.stderr}`);
  const [first] = result.stderr.split('\n');
  assert.match(first ?? '', /^pgwarden: error: /);
  assert.match(first ?? '', message);
  assert.ok(first?.endsWith(`(${code})`), `first line names ${code}: ${first}`);
  assert.match(result.stderr, /^hint: /m);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync('/tmp/pgw-err-');
  chmodSync(dir, 0o711);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const [first] = await testBinarySources();
const pgBin = first?.pgBin ?? 'embedded';

describe('CLI errors', () => {
  it('refuses a data directory that is a file', async (t) => {
    const file = join(tempDir(t), 'file');
    writeFileSync(file, 'keep me');
    const result = await runPgwarden(['up', '--detach', '--data-dir', file, '--pg-bin', pgBin]);
    assertCleanError(result, 'PGW_DATA_DIR_NOT_DIRECTORY', /is not a directory/);
  });

  it('refuses a directory it cannot write', async (t) => {
    const dir = join(tempDir(t), 'locked');
    mkdirSync(dir, { mode: 0o755 });
    // As root, permissions do not bind: run the CLI as an unprivileged user instead.
    const asUser =
      process.getuid?.() === 0
        ? await runCommand('getent', ['passwd', 'nobody']).then((r) => {
            const [, , uid, gid] = r.stdout.split(':');
            return { uid: Number(uid), gid: Number(gid) };
          })
        : {};
    const result = await runPgwarden(
      ['init', '--data-dir', join(dir, 'd'), '--pg-bin', pgBin],
      asUser,
    );
    assertCleanError(result, 'PGW_DATA_DIR_NOT_WRITABLE', /cannot write to .*locked/);
  });

  it('refuses a non-empty directory it did not create, and leaves it untouched', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'precious.txt'), 'data');
    const result = await runPgwarden(['init', '--data-dir', dir, '--pg-bin', pgBin]);
    assertCleanError(result, 'PGW_DATA_DIR_NOT_EMPTY', /not a pgwarden data directory/);
  });

  it('says how to get binaries when there are none', async (t) => {
    const result = await runPgwarden([
      'up',
      '--data-dir',
      join(tempDir(t), 'd'),
      '--pg-bin',
      '/nonexistent/bin',
    ]);
    assertCleanError(result, 'PGW_BINARIES_NOT_FOUND', /no usable PostgreSQL binaries/);
    assert.match(result.stderr, /apt-get install postgresql|npm install|--pg-bin/);
  });

  it('names the unknown key of an invalid config, with exit status 2', async (t) => {
    const dir = tempDir(t);
    const config = join(dir, 'pgwarden.yaml');
    writeFileSync(config, 'server:\n  adminUser: alice\n  pgbin: /usr/bin\n');
    const result = await runPgwarden(['status', '--config', config, '--data-dir', join(dir, 'd')]);
    assertCleanError(result, 'PGW_CONFIG_INVALID', /unknown key "server\.pgbin"/, 2);
    writeFileSync(config, 'server:\n  startTimeoutSeconds: soon\n');
    const typed = await runPgwarden(['status', '--config', config, '--data-dir', join(dir, 'd')]);
    assertCleanError(typed, 'PGW_CONFIG_INVALID', /server\.startTimeoutSeconds/, 2);
    const missing = await runPgwarden(['status', '--config', join(dir, 'nope.yaml')]);
    assertCleanError(missing, 'PGW_CONFIG_NOT_FOUND', /does not exist/);
  });

  it('refuses unknown commands and flags with exit status 2', async () => {
    assertCleanError(
      await runPgwarden(['frobnicate']),
      'PGW_USAGE',
      /unknown command "frobnicate"/,
      2,
    );
    assertCleanError(await runPgwarden(['status', '--colour']), 'PGW_USAGE', /--colour/, 2);
    assertCleanError(
      await runPgwarden(['down', '--detach']),
      'PGW_USAGE',
      /does not take --detach/,
      2,
    );
  });

  it('exits quietly when its reader closes the pipe early (| head)', async () => {
    const child = spawn(process.execPath, [CLI, 'config', 'schema'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Close the pipe before the first line arrives, as `head` does once it has enough.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
  });

  it('refuses a weak PGWARDEN_ADMIN_PASSWORD before touching anything', async (t) => {
    const dataDir = join(tempDir(t), 'd');
    const result = await runPgwarden(['init', '--data-dir', dataDir, '--pg-bin', pgBin], {
      env: { PGWARDEN_ADMIN_PASSWORD: 'short' },
    });
    assertCleanError(result, 'PGW_CONFIG_INVALID', /PGWARDEN_ADMIN_PASSWORD must be/, 2);
    assert.doesNotMatch(
      result.stderr + result.stdout,
      /short/,
      'the password itself is never echoed',
    );
  });
});

describe('CLI errors with a server', () => {
  it('refuses binaries of another major than the cluster', async (t) => {
    const server = TempServer.create(pgBin, (fn) => t.after(fn));
    await server.up();
    await server.cli(['down']);
    // Pretend the cluster came from a major no installed binaries have.
    writeFileSync(join(server.layout.pgdata, 'PG_VERSION'), '14\n');
    const result = await server.cli(['up', '--detach']);
    assertCleanError(
      result,
      'PGW_DATA_DIR_VERSION_MISMATCH',
      /holds a PostgreSQL 14 cluster, but the binaries chosen are PostgreSQL \d+/,
    );
  });

  it('shows the last PostgreSQL log lines when the server fails to start, and recovers once fixed', async (t) => {
    const server = TempServer.create(pgBin, (fn) => t.after(fn));
    await server.up();
    await server.cli(['down']);
    const autoConf = join(server.layout.pgdata, 'postgresql.auto.conf');
    const { readFileSync } = await import('node:fs');
    const original = readFileSync(autoConf, 'utf8');
    writeFileSync(autoConf, `${original}shared_buffers = 'plenty'\n`);
    const result = await server.cli(['up', '--detach']);
    assertCleanError(
      result,
      'PGW_SERVER_START_FAILED',
      /did not become ready|exited during startup/,
    );
    assert.match(result.stderr, /shared_buffers/, "PostgreSQL's own complaint is shown");
    const status = await server.cli(['status']);
    assert.equal(status.code, 3, 'nothing left running');
    writeFileSync(autoConf, original);
    await server.up();
    assert.equal((await server.cli(['status'])).code, 0);
  });
});
