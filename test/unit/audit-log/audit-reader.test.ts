import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AuditFilter,
  follow,
  parseTimeBound,
  readAuditLog,
  tail,
} from '../../../src/audit/log/audit-reader.js';
import type { SealedAuditRecord } from '../../../src/audit/log/audit-record.js';
import { AuditWriter } from '../../../src/audit/log/audit-writer.js';
import { isPgwardenError } from '../../../src/errors.js';
import { statementEvent, tempLog, writeRecords } from './audit-test-helpers.js';

async function collect(dir: string, filter: AuditFilter): Promise<number[]> {
  const seqs: number[] = [];
  for await (const record of readAuditLog(dir, filter)) seqs.push(record.seq);
  return seqs;
}

const range = (from: number, to: number, keep: (i: number) => boolean): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i).filter(keep);

describe('audit reader', () => {
  it('search filters by user, class, object, ip, outcome, event and time', async (t) => {
    const log = tempLog(t);
    const start = Date.parse('2025-03-01T00:00:00Z');
    let now = start;
    const writer = await AuditWriter.open({
      dir: log.dir,
      keyFile: log.keyFile,
      maxFileBytes: 4096,
      now: () => now,
    });
    for (let i = 1; i <= 60; i++) {
      now = start + i * 60_000;
      void writer.append(statementEvent(i));
    }
    void writer.append({ code: 3002, event: 'auth.failed', user: 'eve', address: '2001:db8::5' });
    await writer.close();

    const all = range(1, 60, () => true);
    assert.deepEqual(await collect(log.dir, {}), [...all, 61]);
    assert.deepEqual(
      await collect(log.dir, { user: 'alice' }),
      range(1, 60, (i) => i % 3 === 0),
    );
    assert.deepEqual(
      await collect(log.dir, { class: 'WRITE' }),
      range(1, 60, (i) => i % 5 === 0),
    );
    assert.deepEqual(
      await collect(log.dir, { object: 'accounts' }),
      range(1, 60, (i) => i % 5 === 0),
    );
    assert.deepEqual(
      await collect(log.dir, { object: 'public.orders' }),
      range(1, 60, (i) => i % 5 !== 0),
    );
    assert.deepEqual(await collect(log.dir, { object: 'other.orders' }), []);
    assert.deepEqual(
      await collect(log.dir, { ip: '10.0.0.7' }),
      range(1, 60, (i) => i % 2 === 0),
    );
    assert.deepEqual(
      await collect(log.dir, { ip: '192.168.0.0/16' }),
      range(1, 60, (i) => i % 2 === 1),
    );
    assert.deepEqual(await collect(log.dir, { ip: '2001:db8::/32' }), [61]);
    assert.deepEqual(
      await collect(log.dir, { outcome: '42501' }),
      range(1, 60, (i) => i % 7 === 0),
    );
    assert.deepEqual(
      await collect(log.dir, { outcome: 'update' }),
      range(1, 60, (i) => i % 5 === 0 && i % 7 !== 0),
    );
    assert.deepEqual(await collect(log.dir, { event: 'auth' }), [61]);
    assert.deepEqual(
      await collect(log.dir, {
        since: '2025-03-01T00:10:00Z',
        until: new Date(start + 20 * 60_000),
      }),
      range(10, 19, () => true),
    );
    assert.deepEqual(
      await collect(log.dir, { user: 'alice', class: 'write', since: start + 30 * 60_000 }),
      [30, 45, 60],
    );
    await assert.rejects(
      readAuditLog(log.dir, { ip: 'not-an-ip' }).next(),
      (e: unknown) => isPgwardenError(e) && e.code === 'PGW_USAGE',
    );
  });

  it('parses time bounds as ISO dates or ages', () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    assert.equal(parseTimeBound('2h', now), now - 7_200_000);
    assert.equal(parseTimeBound('7d', now), now - 7 * 86_400_000);
    assert.equal(parseTimeBound('2025-03-01'), Date.parse('2025-03-01T00:00:00Z'));
    assert.throws(
      () => parseTimeBound('yesterday'),
      (e: unknown) => isPgwardenError(e),
    );
  });

  it('tail returns the last n records across files', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 200, { maxFileBytes: 2048 });
    assert.deepEqual(
      (await tail(log.dir, 25)).map((r) => r.seq),
      range(176, 200, () => true),
    );
    assert.equal((await tail(log.dir, 1000)).length, 200);
    assert.deepEqual(await tail(log.dir, 0), []);
    assert.deepEqual(await tail(`${log.dir}-missing`, 5), []);
  });

  it('follow yields appended records across rotations', async (t) => {
    const log = tempLog(t);
    const writer = await AuditWriter.open({
      dir: log.dir,
      keyFile: log.keyFile,
      maxFileBytes: 2048,
    });
    for (let i = 1; i <= 5; i++) void writer.append(statementEvent(i));
    await writer.flush();
    const controller = new AbortController();
    const seen: SealedAuditRecord[] = [];
    const following = (async () => {
      for await (const record of follow(log.dir, {
        afterSeq: 3,
        intervalMs: 20,
        signal: controller.signal,
      })) {
        seen.push(record);
        if (record.seq === 60) controller.abort();
      }
    })();
    for (let i = 6; i <= 60; i++) {
      void writer.append(statementEvent(i));
      if (i % 10 === 0) await writer.flush();
    }
    await writer.close();
    await following;
    assert.deepEqual(
      seen.map((r) => r.seq),
      range(4, 60, () => true),
    );
  });

  it('follow from the end sees only new records and stops when aborted', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 5);
    const controller = new AbortController();
    const iterator = follow(log.dir, { intervalMs: 20, signal: controller.signal });
    const writer = await AuditWriter.open({ dir: log.dir, keyFile: log.keyFile });
    const first = iterator.next();
    // follow takes its starting point when first asked; give it time to read where the log ends.
    await new Promise((resolve) => setTimeout(resolve, 100));
    void writer.append(statementEvent(6));
    await writer.flush();
    assert.equal((await first).value?.seq, 6);
    controller.abort();
    assert.equal((await iterator.next()).done, true);
    await writer.close();
  });
});
