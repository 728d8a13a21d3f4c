import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configJsonSchema } from '../../src/config/config-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { PgwardenError } from '../../src/errors.js';

function workspace(t: { after: (fn: () => void) => void }, yaml?: string): string {
  const cwd = mkdtempSync(join(tmpdir(), 'pgw-config-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  if (yaml !== undefined) {
    mkdirSync(join(cwd, '.pgwarden'));
    writeFileSync(join(cwd, '.pgwarden', 'pgwarden.yaml'), yaml);
  }
  return cwd;
}

describe('configuration precedence: flag > env > file > default', () => {
  it('uses the defaults when nothing is given', (t) => {
    const cwd = workspace(t);
    const loaded = loadConfig({ flags: {}, env: {}, cwd });
    assert.equal(loaded.dataDir, join(cwd, '.pgwarden'));
    assert.equal(loaded.configPath, undefined);
    assert.equal(loaded.config.server.adminUser, 'pgwarden');
    assert.equal(loaded.config.server.pgBin, 'auto');
    assert.equal(loaded.config.server.allowAdminReplication, false);
    assert.equal(loaded.sources['server.adminUser'], 'default');
  });

  it('takes the file over the default', (t) => {
    const cwd = workspace(t, 'server:\n  adminUser: from_file\n  startTimeoutSeconds: 30\n');
    const loaded = loadConfig({ flags: {}, env: {}, cwd });
    assert.equal(loaded.configPath, join(cwd, '.pgwarden', 'pgwarden.yaml'));
    assert.equal(loaded.config.server.adminUser, 'from_file');
    assert.equal(loaded.config.server.startTimeoutSeconds, 30);
    assert.equal(loaded.sources['server.adminUser'], 'file');
  });

  it('takes the environment over the file', (t) => {
    const cwd = workspace(t, 'server:\n  adminUser: from_file\n  startTimeoutSeconds: 30\n');
    const env = { PGWARDEN_ADMIN_USER: 'from_env', PGWARDEN_START_TIMEOUT: '45' };
    const loaded = loadConfig({ flags: {}, env, cwd });
    assert.equal(loaded.config.server.adminUser, 'from_env');
    assert.equal(loaded.config.server.startTimeoutSeconds, 45);
    assert.equal(loaded.sources['server.adminUser'], 'env');
  });

  it('takes the flag over the environment', (t) => {
    const cwd = workspace(t, 'server:\n  adminUser: from_file\n');
    const loaded = loadConfig({
      flags: { 'admin-user': 'from_flag', 'start-timeout': '5' },
      env: { PGWARDEN_ADMIN_USER: 'from_env', PGWARDEN_START_TIMEOUT: '45' },
      cwd,
    });
    assert.equal(loaded.config.server.adminUser, 'from_flag');
    assert.equal(loaded.config.server.startTimeoutSeconds, 5);
    assert.equal(loaded.sources['server.adminUser'], 'flag');
  });

  it('finds the data directory by flag, then PGWARDEN_DATA_DIR, then ./.pgwarden', (t) => {
    const cwd = workspace(t);
    const env = { PGWARDEN_DATA_DIR: 'env-dir' };
    assert.equal(
      loadConfig({ flags: { 'data-dir': 'flag-dir' }, env, cwd }).dataDir,
      join(cwd, 'flag-dir'),
    );
    assert.equal(loadConfig({ flags: {}, env, cwd }).dataDir, join(cwd, 'env-dir'));
  });

  it('reads --config over PGWARDEN_CONFIG over the data directory file', (t) => {
    const cwd = workspace(t, 'server:\n  adminUser: in_data_dir\n');
    writeFileSync(join(cwd, 'a.yaml'), 'server:\n  adminUser: from_flag_file\n');
    writeFileSync(join(cwd, 'b.yaml'), 'server:\n  adminUser: from_env_file\n');
    const env = { PGWARDEN_CONFIG: 'b.yaml' };
    assert.equal(
      loadConfig({ flags: { config: 'a.yaml' }, env, cwd }).config.server.adminUser,
      'from_flag_file',
    );
    assert.equal(loadConfig({ flags: {}, env, cwd }).config.server.adminUser, 'from_env_file');
  });

  it('freezes the result', (t) => {
    const loaded = loadConfig({ flags: {}, env: {}, cwd: workspace(t) });
    assert.ok(Object.isFrozen(loaded.config));
    assert.ok(Object.isFrozen(loaded.config.server));
  });
});

describe('configuration validation', () => {
  const failure = (fn: () => unknown): PgwardenError => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof PgwardenError);
      return error;
    }
    assert.fail('expected an error');
  };

  it('rejects unknown keys with their path, at any depth', (t) => {
    const top = failure(() => loadConfig({ flags: {}, env: {}, cwd: workspace(t, 'sever: {}\n') }));
    assert.equal(top.code, 'PGW_CONFIG_INVALID');
    assert.match(top.message, /unknown key "sever"/);
    const nested = failure(() =>
      loadConfig({ flags: {}, env: {}, cwd: workspace(t, 'server:\n  port: 1\n') }),
    );
    assert.match(nested.message, /unknown key "server\.port"/);
    assert.match(nested.message, /pgwarden\.yaml/);
  });

  it('rejects bad values from each source', (t) => {
    const cwd = workspace(t);
    assert.match(
      failure(() => loadConfig({ flags: {}, env: { PGWARDEN_START_TIMEOUT: 'soon' }, cwd }))
        .message,
      /PGWARDEN_START_TIMEOUT: expected a whole number/,
    );
    assert.match(
      failure(() => loadConfig({ flags: { 'admin-user': 'pg_admin' }, env: {}, cwd })).message,
      /server\.adminUser: must not start with "pg_"/,
    );
    assert.match(
      failure(() => loadConfig({ flags: { 'admin-user': 'pgwarden_su' }, env: {}, cwd })).message,
      /reserves/,
    );
    assert.match(
      failure(() => loadConfig({ flags: {}, env: {}, cwd: workspace(t, 'server: [1, 2\n') }))
        .message,
      /not valid YAML/,
    );
  });

  it('exports a JSON Schema that rejects unknown keys and carries the defaults', () => {
    const schema = configJsonSchema() as {
      additionalProperties: boolean;
      properties: {
        server: {
          additionalProperties: boolean;
          properties: Record<string, { default?: unknown }>;
        };
      };
    };
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.server.additionalProperties, false);
    assert.equal(schema.properties.server.properties.adminUser?.default, 'pgwarden');
    assert.equal(schema.properties.server.properties.allowAdminReplication?.default, false);
  });
});
