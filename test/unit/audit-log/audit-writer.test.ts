import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadAuditKey, loadOrCreateAuditKey } from '../../../src/audit/log/audit-key.js';
import { readAuditLog } from '../../../src/audit/log/audit-reader.js';
import { verifyAuditLog } from '../../../src/audit/log/audit-verifier.js';
import { AuditWriter } from '../../../src/audit/log/audit-writer.js';
import { isPgwardenError, type PgwardenError } from '../../../src/errors.js';
import { auditFiles, statementEvent, tempLog, writeRecords } from './audit-test-helpers.js';

const DAY_MS = 86_400_000;

describe('audit key', () => {
  it('is created as 32 random bytes in a 0600 file in a 0700 directory, and reloaded', (t) => {
    const log = tempLog(t);
    const key = loadOrCreateAuditKey(log.keyFile);
    assert.equal(key.length, 32);
    assert.equal(statSync(log.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(log.root, 'keys')).mode & 0o777, 0o700);
    assert.deepEqual(loadOrCreateAuditKey(log.keyFile), key);
    assert.deepEqual(loadAuditKey(log.keyFile), key);
  });

  it('refuses a key readable by group or others, of the wrong size, or missing', (t) => {
    const log = tempLog(t);
    loadOrCreateAuditKey(log.keyFile);
    const refused = (pattern: RegExp) => (error: unknown) =>
      isPgwardenError(error) &&
      error.code === 'PGW_AUDIT_KEY_INVALID' &&
      pattern.test(error.message);
    chmodSync(log.keyFile, 0o644);
    assert.throws(() => loadOrCreateAuditKey(log.keyFile), refused(/mode 0644/));
    chmodSync(log.keyFile, 0o600);
    writeFileSync(log.keyFile, `${Buffer.alloc(16).toString('base64')}\n`);
    assert.throws(() => loadAuditKey(log.keyFile), refused(/32 base64-encoded bytes/));
    rmSync(log.keyFile);
    assert.throws(() => loadAuditKey(log.keyFile), refused(/does not exist/));
  });

  it('the writer refuses to start a new key for an existing log', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 3);
    rmSync(log.keyFile);
    await assert.rejects(
      AuditWriter.open({ dir: log.dir, keyFile: log.keyFile }),
      (error: unknown) => isPgwardenError(error) && error.code === 'PGW_AUDIT_KEY_INVALID',
    );
  });
});

describe('audit writer', () => {
  it('creates the directory 0700 and files 0600', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 3);
    assert.equal(statSync(log.dir).mode & 0o777, 0o700);
    for (const file of auditFiles(log.dir)) assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('assigns seq, prev and mac at append time, in call order', async (t) => {
    const log = tempLog(t);
    const writer = await AuditWriter.open({ dir: log.dir, keyFile: log.keyFile });
    void writer.append({
      code: 1,
      event: 'a',
      seq: 99,
      mac: 'x',
      time: '2025-01-01T00:00:00.000Z',
    });
    assert.equal(writer.lastSeq, 1);
    const odd = JSON.parse('{"code":2,"event":"b","__proto__":"kept","toString":"kept too"}');
    void writer.append(odd as { code: number; event: string });
    assert.equal(writer.lastSeq, 2);
    await writer.close();
    const records = [];
    for await (const record of readAuditLog(log.dir)) records.push(record);
    assert.deepEqual(
      records.map((r) => [r.seq, r.event, r.time]),
      [
        [1, 'a', '2025-01-01T00:00:00.000Z'],
        [2, 'b', records[1]?.time],
      ],
    );
    assert.equal(Object.hasOwn(records[1] ?? {}, '__proto__'), true);
    assert.equal(records[1]?.toString, 'kept too');
    assert.equal((await verifyAuditLog(log.dir, loadAuditKey(log.keyFile))).ok, true);
  });

  it('durable mode: once append resolves, the line is on disk', async (t) => {
    const log = tempLog(t);
    const writer = await AuditWriter.open({ dir: log.dir, keyFile: log.keyFile, durable: true });
    await writer.append(statementEvent(1));
    const [file] = auditFiles(log.dir);
    assert.equal(readFileSync(file as string, 'utf8').split('\n').length, 2);
    const batch = Array.from({ length: 50 }, (_, i) => writer.append(statementEvent(i + 2)));
    await Promise.all(batch);
    assert.equal(
      readFileSync(file as string, 'utf8')
        .trimEnd()
        .split('\n').length,
      51,
    );
    await writer.close();
  });

  it('a directory it cannot write only calls onError, and the writer catches up later', async (t) => {
    const log = tempLog(t);
    // As root permissions do not bind; a file where the directory should be fails for everyone.
    mkdirSync(log.root, { recursive: true });
    const blocker = join(log.root, 'blocker');
    writeFileSync(blocker, '');
    const dir = join(blocker, 'audit');
    const errors: PgwardenError[] = [];
    const writer = await AuditWriter.open({
      dir,
      keyFile: log.keyFile,
      onError: (error) => errors.push(error),
      retryDelayMs: 10,
    });
    assert.doesNotThrow(() => {
      for (let i = 1; i <= 20; i++) void writer.append(statementEvent(i));
    });
    await writer.flush();
    assert.ok(errors.length > 0);
    assert.ok(
      errors.every((e) => e.code === 'PGW_AUDIT_WRITE_FAILED'),
      errors[0]?.message,
    );
    assert.match(errors.at(-1)?.message ?? '', /records wait for a retry \(ENOTDIR\)/);
    assert.equal(writer.healthy, false);

    rmSync(blocker);
    mkdirSync(blocker);
    await writer.flush();
    assert.equal(writer.healthy, true);
    await writer.close();
    assert.deepEqual(await verifyAuditLog(dir, loadAuditKey(log.keyFile)), {
      ok: true,
      records: 20,
      files: 1,
      firstSeq: 1,
      lastSeq: 20,
    });
  });

  it('durable appends never reject while the disk fails; close gives them up', async (t) => {
    const log = tempLog(t);
    mkdirSync(log.root, { recursive: true });
    const blocker = join(log.root, 'blocker');
    writeFileSync(blocker, '');
    const errors: PgwardenError[] = [];
    const writer = await AuditWriter.open({
      dir: join(blocker, 'audit'),
      keyFile: log.keyFile,
      durable: true,
      onError: (error) => errors.push(error),
    });
    const pending = writer.append(statementEvent(1));
    await writer.close();
    await pending;
    assert.match(
      errors.at(-1)?.message ?? '',
      /closing with 1 audit records unwritten \(seq 1\.\.1\)/,
    );
  });

  it('drops and counts events beyond maxPendingRecords, then records the loss in the chain', async (t) => {
    const log = tempLog(t);
    mkdirSync(log.root, { recursive: true });
    const blocker = join(log.root, 'blocker');
    writeFileSync(blocker, '');
    const dir = join(blocker, 'audit');
    const writer = await AuditWriter.open({
      dir,
      keyFile: log.keyFile,
      maxPendingRecords: 5,
      retryDelayMs: 10,
      onError: () => undefined,
    });
    for (let i = 1; i <= 8; i++) void writer.append(statementEvent(i));
    assert.equal(writer.lastSeq, 5);
    rmSync(blocker);
    mkdirSync(blocker);
    await writer.close();
    const records = [];
    for await (const record of readAuditLog(dir)) records.push(record);
    assert.equal(records.length, 6);
    assert.equal(records[5]?.event, 'audit.dropped');
    assert.equal(records[5]?.code, 9002);
    assert.equal(records[5]?.count, 3);
    assert.equal((await verifyAuditLog(dir, loadAuditKey(log.keyFile))).ok, true);
  });

  it('retention removes old files and the chain still verifies through the retention record', async (t) => {
    const log = tempLog(t);
    const start = Date.parse('2025-01-01T00:00:00Z');
    let now = start;
    const options = {
      dir: log.dir,
      keyFile: log.keyFile,
      maxFileAgeMs: DAY_MS,
      retentionDays: 30,
      now: () => now,
    };
    const writer = await AuditWriter.open(options);
    for (let i = 1; i <= 100; i++) void writer.append(statementEvent(i));
    await writer.flush();
    now = start + 35 * DAY_MS;
    for (let i = 101; i <= 200; i++) void writer.append(statementEvent(i));
    await writer.flush();
    // The rotation to a new file ran retention: the first file (newest record 35 days old) went.
    await writer.enforceRetention();
    now = start + 40 * DAY_MS;
    for (let i = 201; i <= 300; i++) void writer.append(statementEvent(i));
    await writer.flush();
    await writer.enforceRetention();
    await writer.close();

    const files = auditFiles(log.dir);
    assert.equal(files.length, 2);
    assert.match(files[0] as string, /-101\.jsonl$/);
    const key = loadAuditKey(log.keyFile);
    const result = await verifyAuditLog(log.dir, key);
    assert.deepEqual(result, { ok: true, records: 201, files: 2, firstSeq: 101, lastSeq: 301 });
    const retention = [];
    for await (const record of readAuditLog(log.dir, { event: 'audit.retention' }))
      retention.push(record);
    assert.equal(retention.length, 1);
    assert.equal(retention[0]?.code, 9001);
    assert.equal(retention[0]?.removedThroughSeq, 100);
    assert.deepEqual(retention[0]?.files, ['audit-20250101T000000Z-1.jsonl']);

    // Reopening keeps the chain going and runs retention again (nothing more to remove yet).
    now = start + 40 * DAY_MS + 1000;
    const again = await AuditWriter.open(options);
    void again.append(statementEvent(1));
    await again.close();
    assert.deepEqual(await verifyAuditLog(log.dir, key), {
      ok: true,
      records: 202,
      files: 2,
      firstSeq: 101,
      lastSeq: 302,
    });

    // The retention record is part of the chain: removing it is a deletion like any other.
    const first = files[0] as string;
    const lines = readFileSync(first, 'utf8').trimEnd().split('\n');
    writeFileSync(first, `${lines.filter((l) => !l.includes('audit.retention')).join('\n')}\n`);
    const broken = await verifyAuditLog(log.dir, key);
    assert.ok(!broken.ok && broken.problem === 'deleted' && broken.seq === 201);
  });

  it('a first file removed without a retention record is a deletion of seq 1..', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 300, { maxFileBytes: 8 * 1024 });
    const [first] = auditFiles(log.dir);
    const count = readFileSync(first as string, 'utf8')
      .trimEnd()
      .split('\n').length;
    rmSync(first as string);
    const result = await verifyAuditLog(log.dir, loadAuditKey(log.keyFile));
    assert.ok(!result.ok);
    if (result.ok) return;
    assert.equal(result.problem, 'deleted');
    assert.equal(result.seq, 1);
    assert.equal(result.line, 1);
    assert.match(result.message, new RegExp(`records seq 1\\.\\.${count} are missing`));
  });
});
