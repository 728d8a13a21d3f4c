import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { auditPaths } from '../../src/audit/log/audit-paths.js';
import { CLI, type CliResult, cleanEnv, collectOutput } from '../helpers/pgwarden-cli.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/** Issue 6, item 5: `pgwarden role password set|rotate` against a real server. */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';
const ROLE = 'app_user';
/** Every password a test used, to look for in the logs at the end. */
const used: string[] = [];

describe(`pgwarden role password (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));

  /** `role password set` with the password in PGWARDEN_NEW_PASSWORD. */
  const setViaEnv = (password: string, role = ROLE): Promise<CliResult> => {
    used.push(password);
    return server.cli(['role', 'password', 'set', '--role', role], {
      env: { PGWARDEN_NEW_PASSWORD: password },
    });
  };

  /** `role password set --stdin` with the password piped in, as `echo -n "$PW" |` does. */
  const setViaStdin = (input: string, role = ROLE): Promise<CliResult> => {
    used.push(input.trim());
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [CLI, 'role', 'password', 'set', '--role', role, '--stdin', ...serverArgs()],
        { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const output = collectOutput(child);
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({ code, stdout: output.stdout(), stderr: output.stderr() }),
      );
      child.stdin.end(input);
    });
  };
  const serverArgs = () => ['--data-dir', server.dataDir, '--pg-bin', server.pgBin, '--port', '0'];

  const loginWorks = async (role: string, password: string): Promise<boolean> => {
    const client = new pg.Client(server.gatewayClientConfig(role, password));
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const validUntil = async (role: string): Promise<Date | null> => {
    const su = await server.superuser();
    try {
      const r = await su.query<{ until: Date | null }>(
        'SELECT rolvaliduntil AS until FROM pg_roles WHERE rolname = $1',
        [role],
      );
      return r.rows[0]?.until ?? null;
    } finally {
      await su.end();
    }
  };

  before(async () => {
    await server.up();
    const su = await server.superuser();
    try {
      await su.query(`CREATE ROLE ${ROLE} LOGIN`);
      await su.query('CREATE ROLE rotated LOGIN');
      await su.query('CREATE ROLE boss LOGIN SUPERUSER');
    } finally {
      await su.end();
    }
  });

  it('sets a password from PGWARDEN_NEW_PASSWORD, with VALID UNTIL in 90 days', async () => {
    const result = await setViaEnv('First-correct-horse-1');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /password of role "app_user" set; valid until /);
    assert.ok(await loginWorks(ROLE, 'First-correct-horse-1'));
    const until = await validUntil(ROLE);
    assert.ok(until !== null);
    const days = (until.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 89.9 && days <= 90, `expires in ${days} days`);
  });

  it('reads the password from stdin, dropping one trailing newline', async () => {
    const result = await setViaStdin('Second-correct-horse-2\n');
    assert.equal(result.code, 0, result.stderr);
    assert.ok(await loginWorks(ROLE, 'Second-correct-horse-2'));
  });

  it('refuses each policy violation with its own line, and changes nothing', async () => {
    const cases: [string, RegExp][] = [
      ['Short-1', /too-short: it has 7 characters; the policy needs at least 16/],
      ['alllowercaseletters', /too-few-classes: it has 1 of the character classes/],
      ['x-App_User-Correct-9', /contains-role-name: it contains the role name "app_user"/],
      [
        'Wörter-correct-horse-3',
        /invalid-characters: it holds characters other than printable ASCII/,
      ],
    ];
    for (const [password, message] of cases) {
      const result = await setViaEnv(password);
      assert.equal(result.code, 1, `${password}: ${result.stdout}`);
      assert.match(result.stderr, /breaks the password policy \(PGW_PASSWORD_POLICY\)/);
      assert.match(result.stderr, message);
      assert.ok(!result.stderr.includes(password) && !result.stdout.includes(password));
    }
    const all = await setViaEnv('app_user');
    used.pop(); // the role name itself: of course the logs hold it
    assert.match(
      all.stderr,
      /too-short[^\n]*\n[^\n]*too-few-classes[^\n]*\n[^\n]*contains-role-name/,
    );
    assert.ok(await loginWorks(ROLE, 'Second-correct-horse-2'), 'the password is unchanged');
  });

  it('refuses a recent password, and accepts it again after historySize others', async () => {
    for (const old of ['Second-correct-horse-2', 'First-correct-horse-1']) {
      const result = await setViaEnv(old);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /reused: it is one of the last 5 passwords of the role/);
    }
    for (let i = 3; i <= 6; i++) {
      const result = await setViaEnv(`Next-correct-horse-${i}`);
      assert.equal(result.code, 0, result.stderr);
    }
    // Five set since First-…-1 (2 to 6): it has left the history.
    const again = await setViaEnv('First-correct-horse-1');
    assert.equal(again.code, 0, again.stderr);
    const su = await server.superuser('pgwarden');
    try {
      const rows = await su.query<{ verifier: string }>(
        'SELECT verifier FROM pgwarden.password_history WHERE role = $1',
        [ROLE],
      );
      assert.equal(rows.rowCount, 5, 'the history is trimmed to 5');
      for (const row of rows.rows) assert.match(row.verifier, /^SCRAM-SHA-256\$4096:/);
    } finally {
      await su.end();
    }
  });

  it('refuses internal roles, superusers, missing roles and a missing password', async () => {
    for (const role of ['pgwarden_su', 'pgwarden_admin', 'pg_monitor', 'boss', 'nobody']) {
      const result = await setViaEnv('Any-correct-horse-77', role);
      assert.equal(result.code, 1, `${role}: ${result.stdout}`);
      assert.match(result.stderr, /PGW_PASSWORD_ROLE_REFUSED/);
    }
    const none = await server.cli(['role', 'password', 'set', '--role', ROLE]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /PGWARDEN_NEW_PASSWORD/);
    const flag = await server.cli(['role', 'password', 'set', '--role', ROLE, '--out', '/tmp/x']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /does not take --out/);
  });

  it('rotate prints one generated password that logs in through the gateway', async () => {
    const result = await server.cli(['role', 'password', 'rotate', '--role', 'rotated']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1);
    const password = lines[0] ?? '';
    used.push(password);
    assert.ok(password.length >= 32);
    assert.match(result.stderr, /password of role "rotated" rotated; valid until/);
    assert.ok(await loginWorks('rotated', password));
    assert.ok((await validUntil('rotated')) !== null);
  });

  it('rotate --out writes a new 0600 file, prints only its path, and never overwrites', async () => {
    const out = join(server.dataDir, '..', 'rotated.pw');
    const result = await server.cli([
      'role',
      'password',
      'rotate',
      '--role',
      'rotated',
      '--out',
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), out);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const password = readFileSync(out, 'utf8').trim();
    used.push(password);
    assert.ok(await loginWorks('rotated', password));

    const again = await server.cli([
      'role',
      'password',
      'rotate',
      '--role',
      'rotated',
      '--out',
      out,
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /PGW_OUTPUT_FILE_EXISTS/);
    assert.equal(readFileSync(out, 'utf8').trim(), password, 'the file is untouched');
    assert.ok(await loginWorks('rotated', password), 'the password did not change');

    // A refused rotation leaves no file behind.
    const refused = join(server.dataDir, '..', 'refused.pw');
    const bad = await server.cli([
      'role',
      'password',
      'rotate',
      '--role',
      'boss',
      '--out',
      refused,
    ]);
    assert.equal(bad.code, 1);
    assert.ok(!existsSync(refused));
  });

  it('writes no password to the server log or the audit log', async () => {
    await sleep(300); // the audit writer batches for a few milliseconds
    const files = [
      ...listFiles(join(server.dataDir, 'log')),
      ...listFiles(auditPaths(server.dataDir).logDir),
    ];
    assert.ok(files.length > 0, 'there are logs to look at');
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const password of used) {
      assert.ok(password.length > 0);
      assert.ok(
        !text.includes(password),
        `a log holds one of the passwords (${password.length} chars)`,
      );
    }
  });
});

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : entry.isFile() ? [path] : [];
  });
}
