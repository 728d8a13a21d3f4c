import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runPgwarden } from '../../helpers/pgwarden-cli.js';
import { auditFiles, tempLog, writeRecords } from './audit-test-helpers.js';

describe('pgwarden audit', () => {
  it('verify: exit 0 on an intact log, exit 1 naming the seq on a tampered one', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 1000, { maxFileBytes: 64 * 1024 });
    const files = auditFiles(log.dir);

    const intact = await runPgwarden(['audit', 'verify', '--data-dir', log.root]);
    assert.equal(intact.code, 0, intact.stderr);
    assert.equal(
      intact.stdout.trim(),
      `audit log intact: 1000 records in ${files.length} files (seq 1..1000)`,
    );

    const file = files.find((f) => readFileSync(f, 'utf8').includes('"seq":500,')) as string;
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/("seq":500,.*?"user":")bob"/, '$1mallory"'),
    );
    const tampered = await runPgwarden(['audit', 'verify', '--data-dir', log.root]);
    assert.equal(tampered.code, 1, tampered.stderr);
    const [first] = tampered.stderr.split('\n');
    assert.match(first ?? '', /^pgwarden: error: the audit log is not intact: /);
    assert.match(first ?? '', /\(seq 500\): modified: /);
    assert.ok(first?.includes(file), first);
    assert.ok(first?.endsWith('(PGW_AUDIT_LOG_TAMPERED)'), first);
    assert.match(tampered.stderr, /^hint: /m);

    const json = await runPgwarden(['audit', 'verify', '--json', '--data-dir', log.root]);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; seq: number; problem: string };
    assert.deepEqual([parsed.ok, parsed.seq, parsed.problem], [false, 500, 'modified']);
  });

  it('verify with no audit log yet succeeds; a world-readable key is refused', async (t) => {
    const log = tempLog(t);
    const empty = await runPgwarden(['audit', 'verify', '--data-dir', log.root]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /audit log intact: 0 records in 0 files/);

    await writeRecords(log, 3);
    const { chmodSync } = await import('node:fs');
    chmodSync(log.keyFile, 0o644);
    const refused = await runPgwarden(['audit', 'verify', '--data-dir', log.root]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /\(PGW_AUDIT_KEY_INVALID\)/);
  });

  it('tail and search print a table or JSON lines', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 30);

    const tailed = await runPgwarden(['audit', 'tail', '-n', '3', '--data-dir', log.root]);
    assert.equal(tailed.code, 0, tailed.stderr);
    const rows = tailed.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 4);
    assert.match(rows[0] ?? '', /^time\s+user\s+address\s+class\s+outcome\s+statement$/);
    assert.match(
      rows[3] ?? '',
      /alice\s+10\.0\.0\.7\s+write\s+UPDATE 1\s+SELECT \* FROM orders WHERE id = 30$/,
    );

    const found = await runPgwarden([
      'audit',
      'search',
      '--user',
      'alice',
      '--class',
      'write',
      '--json',
      '--data-dir',
      log.root,
    ]);
    assert.equal(found.code, 0, found.stderr);
    const records = found.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number });
    assert.deepEqual(
      records.map((r) => r.seq),
      [15, 30],
    );

    const wrongFlag = await runPgwarden(['audit', 'verify', '--user', 'x', '--data-dir', log.root]);
    assert.equal(wrongFlag.code, 2);
    assert.match(wrongFlag.stderr, /does not take --user \(PGW_USAGE\)/);
    const badTime = await runPgwarden([
      'audit',
      'search',
      '--since',
      'soon',
      '--data-dir',
      log.root,
    ]);
    assert.equal(badTime.code, 2);
  });
});
