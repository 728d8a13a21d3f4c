import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { loadAuditKey } from '../../../src/audit/log/audit-key.js';
import { GENESIS_MAC, lineMac } from '../../../src/audit/log/audit-record.js';
import { verifyAuditLog } from '../../../src/audit/log/audit-verifier.js';
import { AuditWriter } from '../../../src/audit/log/audit-writer.js';
import {
  auditFiles,
  editLines,
  statementEvent,
  tempLog,
  writeRecords,
} from './audit-test-helpers.js';

describe('audit log chain', () => {
  it('a chain of 1000 records verifies, and each record is sealed as documented', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 1000);
    const key = loadAuditKey(log.keyFile);
    const result = await verifyAuditLog(log.dir, key);
    assert.deepEqual(result, { ok: true, records: 1000, files: 1, firstSeq: 1, lastSeq: 1000 });

    const [file] = auditFiles(log.dir);
    assert.match(file ?? '', /\/audit-\d{8}T\d{6}Z-1\.jsonl$/);
    const lines = readFileSync(file as string, 'utf8')
      .trimEnd()
      .split('\n');
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    const second = JSON.parse(lines[1] as string) as Record<string, unknown>;
    assert.equal(first.seq, 1);
    assert.equal(first.prev, GENESIS_MAC);
    assert.equal(first.user, 'bob');
    assert.match(String(first.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(second.prev, first.mac);
    // The MAC covers the line's exact text without its last member, "mac".
    const signed = (lines[0] as string).replace(/,"mac":"[A-Za-z0-9_-]{43}"\}$/, '}');
    assert.equal(createHmac('sha256', key).update(signed).digest('base64url'), first.mac);
    assert.equal(lineMac(key, lines[0] as string), first.mac);
    assert.deepEqual(Object.keys(first).slice(0, 4), ['seq', 'time', 'code', 'event']);
    assert.deepEqual(Object.keys(first).slice(-2), ['prev', 'mac']);
    assert.match(String(first.mac), /^[A-Za-z0-9_-]{43}$/);
  });

  it('names the record altered in place: modified at seq 500', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 1000);
    const file = auditFiles(log.dir)[0] as string;
    editLines(file, (lines) =>
      lines.map((line, i) => (i === 499 ? line.replace('"user":"bob"', '"user":"mallory"') : line)),
    );
    const result = await verifyAuditLog(log.dir, loadAuditKey(log.keyFile));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problem, 'modified');
    assert.equal(result.seq, 500);
    assert.equal(result.file, file);
    assert.equal(result.line, 500);
    assert.equal(result.records, 499);
    assert.ok(result.message.includes(`${file} line 500 (seq 500)`), result.message);
  });

  it('names a deleted record: deleted at seq 500', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 1000);
    const file = auditFiles(log.dir)[0] as string;
    editLines(file, (lines) => lines.filter((_, i) => i !== 499));
    const result = await verifyAuditLog(log.dir, loadAuditKey(log.keyFile));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problem, 'deleted');
    assert.equal(result.seq, 500);
    assert.equal(result.line, 500);
    assert.match(result.message, /record seq 500 is missing: seq 501 follows seq 499/);
  });

  it('names swapped records: reordered at seq 500', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 1000);
    const file = auditFiles(log.dir)[0] as string;
    editLines(file, (lines) => {
      const copy = [...lines];
      [copy[499], copy[500]] = [lines[500] as string, lines[499] as string];
      return copy;
    });
    const result = await verifyAuditLog(log.dir, loadAuditKey(log.keyFile));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problem, 'reordered');
    assert.equal(result.seq, 500);
    assert.equal(result.line, 500);
    assert.match(result.message, /seq 500 is out of place: this line holds seq 501/);
  });

  it('names an inserted copy and an unreadable line', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 100);
    const file = auditFiles(log.dir)[0] as string;
    const key = loadAuditKey(log.keyFile);
    const original = readFileSync(file, 'utf8');

    editLines(file, (lines) => [...lines.slice(0, 50), lines[49] as string, ...lines.slice(50)]);
    let result = await verifyAuditLog(log.dir, key);
    assert.ok(
      !result.ok && result.problem === 'inserted' && result.line === 51,
      result.ok ? '' : result.message,
    );

    writeFileSync(file, original);
    editLines(file, (lines) => lines.map((line, i) => (i === 60 ? line.slice(0, 30) : line)));
    result = await verifyAuditLog(log.dir, key);
    assert.ok(
      !result.ok && result.problem === 'malformed' && result.line === 61 && result.seq === null,
    );

    writeFileSync(file, original);
    const forged = JSON.parse(original.split('\n')[69] as string) as Record<string, unknown>;
    forged.statement = 'DROP TABLE evidence';
    editLines(file, (lines) => [...lines.slice(0, 70), JSON.stringify(forged), ...lines.slice(70)]);
    result = await verifyAuditLog(log.dir, key);
    assert.ok(!result.ok && result.problem === 'inserted' && result.line === 71);
  });

  it('a verifier with another key finds the first record modified', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 10);
    const result = await verifyAuditLog(log.dir, Buffer.alloc(32, 7));
    assert.ok(!result.ok && result.problem === 'modified' && result.seq === 1);
  });

  it('continues the chain after a torn last line (a crash mid-write)', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 100);
    const file = auditFiles(log.dir)[0] as string;
    const text = readFileSync(file, 'utf8');
    const lastLineStart = text.lastIndexOf('\n', text.length - 2) + 1;
    truncateSync(file, lastLineStart + Math.floor((text.length - lastLineStart) / 2));

    const key = loadAuditKey(log.keyFile);
    const torn = await verifyAuditLog(log.dir, key);
    assert.deepEqual(torn, { ok: true, records: 99, files: 1, firstSeq: 1, lastSeq: 99 });

    const writer = await AuditWriter.open({
      dir: log.dir,
      keyFile: log.keyFile,
      onError: () => undefined,
    });
    // Seq 100 was written once (the anchor saw it) and is gone: the loss joins the chain.
    assert.equal(writer.lastSeq, 100);
    for (let i = 0; i < 10; i++) void writer.append(statementEvent(i));
    await writer.close();
    assert.deepEqual(await verifyAuditLog(log.dir, key), {
      ok: true,
      records: 110,
      files: 1,
      firstSeq: 1,
      lastSeq: 110,
    });
    const lost = JSON.parse(readFileSync(file, 'utf8').split('\n')[99] as string) as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      [lost.seq, lost.code, lost.event, lost.anchorSeq, lost.lastSeq],
      [100, 9003, 'audit.tail-missing', 100, 99],
    );
    assert.ok(
      readFileSync(file, 'utf8')
        .split('\n')
        .every((l) => l === '' || l.endsWith('}')),
    );
  });

  it('resumes the chain across reopenings', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 5);
    await writeRecords(log, 5);
    const writer = await AuditWriter.open({ dir: log.dir, keyFile: log.keyFile });
    assert.equal(writer.lastSeq, 10);
    await writer.close();
    assert.deepEqual(await verifyAuditLog(log.dir, loadAuditKey(log.keyFile)), {
      ok: true,
      records: 10,
      files: 1,
      firstSeq: 1,
      lastSeq: 10,
    });
  });

  it('rotation by size makes several files that verify as one chain', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 1000, { maxFileBytes: 16 * 1024 });
    const files = auditFiles(log.dir);
    assert.ok(files.length > 5, `${files.length} files`);
    let expectedFirst = 1;
    for (const file of files) {
      assert.match(file, new RegExp(`-${expectedFirst}\\.jsonl$`));
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expectedFirst += lines.length;
      assert.ok(readFileSync(file).length <= 16 * 1024);
    }
    const result = await verifyAuditLog(log.dir, loadAuditKey(log.keyFile));
    assert.deepEqual(result, {
      ok: true,
      records: 1000,
      files: files.length,
      firstSeq: 1,
      lastSeq: 1000,
    });

    // A whole file removed from the middle is a deletion.
    const [, second] = files;
    rmSync(second as string);
    const broken = await verifyAuditLog(log.dir, loadAuditKey(log.keyFile));
    assert.ok(!broken.ok && broken.problem === 'deleted', broken.ok ? '' : broken.message);
  });

  it('rotation by age starts a new file', async (t) => {
    const log = tempLog(t);
    let now = Date.parse('2025-01-01T00:00:00Z');
    const writer = await AuditWriter.open({
      dir: log.dir,
      keyFile: log.keyFile,
      maxFileAgeMs: 3_600_000,
      now: () => now,
    });
    for (let i = 1; i <= 3; i++) void writer.append(statementEvent(i));
    await writer.flush();
    now += 3_600_000;
    for (let i = 4; i <= 6; i++) void writer.append(statementEvent(i));
    await writer.close();
    const files = auditFiles(log.dir);
    assert.equal(files.length, 2);
    assert.match(files[0] as string, /audit-20250101T000000Z-1\.jsonl$/);
    assert.match(files[1] as string, /audit-20250101T010000Z-4\.jsonl$/);
    assert.equal((await verifyAuditLog(log.dir, loadAuditKey(log.keyFile))).ok, true);
  });
});

describe('audit log anchor: the tail', () => {
  const anchorOf = (log: { keyFile: string }): string => join(dirname(log.keyFile), 'audit.anchor');

  it('names records cut off the end, which the chain alone cannot see', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 100);
    const key = loadAuditKey(log.keyFile);
    const file = auditFiles(log.dir)[0] as string;
    const options = { anchorFile: anchorOf(log) };
    assert.equal((await verifyAuditLog(log.dir, key, options)).ok, true);
    editLines(file, (lines) => lines.slice(0, 95));
    assert.equal((await verifyAuditLog(log.dir, key)).ok, true, 'the chain is still whole');
    const result = await verifyAuditLog(log.dir, key, options);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problem, 'truncated');
    assert.equal(result.seq, 96);
    assert.equal(result.line, 96);
    assert.match(result.message, /records seq 96\.\.100 are missing from the end of the log/);
  });

  it('refuses an altered anchor, and a log replaced by another chain', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 20);
    const key = loadAuditKey(log.keyFile);
    const options = { anchorFile: anchorOf(log) };
    const anchor = readFileSync(options.anchorFile, 'utf8');
    writeFileSync(options.anchorFile, anchor.replace('"seq":20', '"seq":10'));
    let result = await verifyAuditLog(log.dir, key, options);
    assert.equal(result.ok ? 'ok' : result.problem, 'anchor-invalid');
    writeFileSync(options.anchorFile, anchor);

    // A second chain under the same key, written over the first: every MAC holds.
    rmSync(log.dir, { recursive: true });
    const other = await AuditWriter.open({
      dir: log.dir,
      keyFile: log.keyFile,
      anchorFile: join(log.root, 'elsewhere.anchor'),
    });
    for (let i = 0; i < 30; i++) void other.append(statementEvent(i + 1000));
    await other.close();
    assert.equal((await verifyAuditLog(log.dir, key)).ok, true);
    result = await verifyAuditLog(log.dir, key, options);
    assert.equal(result.ok ? 'ok' : result.problem, 'anchor-mismatch');
  });

  it('a writer reopened on a shorter log records the loss in the chain', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 50);
    const file = auditFiles(log.dir)[0] as string;
    editLines(file, (lines) => lines.slice(0, 40));
    const problems: string[] = [];
    const writer = await AuditWriter.open({
      dir: log.dir,
      keyFile: log.keyFile,
      onError: (e) => problems.push(e.message),
    });
    await writer.close();
    assert.match(problems.join('\n'), /ends at seq 40, but the anchor says seq 50 was written/);
    const key = loadAuditKey(log.keyFile);
    assert.equal((await verifyAuditLog(log.dir, key, { anchorFile: anchorOf(log) })).ok, true);
    const last = JSON.parse(readFileSync(file, 'utf8').trimEnd().split('\n').at(-1) as string) as {
      seq: number;
      event: string;
      anchorSeq: number;
    };
    assert.deepEqual([last.seq, last.event, last.anchorSeq], [41, 'audit.tail-missing', 50]);
  });
});
