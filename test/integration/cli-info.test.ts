import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runPgwarden } from '../helpers/pgwarden-cli.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/** The informational commands: doctor, config schema/show, --version, --help. */
describe('informational commands', () => {
  it('doctor says which binaries it chose and why, for each source', async () => {
    for (const { pgBin, version } of await testBinarySources()) {
      const result = await runPgwarden([
        'doctor',
        '--pg-bin',
        pgBin,
        '--data-dir',
        '/tmp/pgw-doctor-none',
      ]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`chosen\\s+${pgBin} ${version.replace('.', '\\.')}`));
      assert.match(result.stdout, /why: /);
      assert.match(result.stdout, /does not exist yet/);
    }
  });

  it('doctor fails, with the way out, when no binaries are usable', async () => {
    const result = await runPgwarden(['doctor', '--pg-bin', '/nonexistent']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /unusable\s+configured .*missing initdb, postgres/);
    assert.match(result.stdout, /hint\s+install PostgreSQL/);
  });

  it('config schema prints the JSON Schema of pgwarden.yaml', async () => {
    const result = await runPgwarden(['config', 'schema']);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout) as {
      additionalProperties: boolean;
      properties: object;
    };
    assert.equal(schema.additionalProperties, false);
    assert.ok('server' in schema.properties);
  });

  it('config show reports each setting and where it came from', async () => {
    const result = await runPgwarden(['config', 'show', '--json', '--admin-user', 'alice'], {
      env: { PGWARDEN_START_TIMEOUT: '33' },
    });
    assert.equal(result.code, 0, result.stderr);
    const view = JSON.parse(result.stdout) as {
      config: { server: { adminUser: string; startTimeoutSeconds: number } };
      sources: Record<string, string>;
    };
    assert.equal(view.config.server.adminUser, 'alice');
    assert.equal(view.sources['server.adminUser'], 'flag');
    assert.equal(view.config.server.startTimeoutSeconds, 33);
    assert.equal(view.sources['server.startTimeoutSeconds'], 'env');
    assert.equal(view.sources['server.pgBin'], 'default');
  });

  it('--version prints the package version; --help lists every command', async () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    assert.equal((await runPgwarden(['--version'])).stdout.trim(), pkg.version);
    const help = await runPgwarden(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['up', 'down', 'status', 'init', 'doctor', 'parameter', 'config']) {
      assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    }
  });
});
