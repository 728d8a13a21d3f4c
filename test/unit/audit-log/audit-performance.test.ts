import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadAuditKey } from '../../../src/audit/log/audit-key.js';
import { verifyAuditLog } from '../../../src/audit/log/audit-verifier.js';
import { AuditWriter } from '../../../src/audit/log/audit-writer.js';
import { statementEvent, tempLog } from './audit-test-helpers.js';

it('a 200k-record log verifies (durations printed, not asserted)', async (t) => {
  const log = tempLog(t);
  // Nothing may be dropped here: on a loaded machine the loop below can get
  // 100 000 records ahead of the disk, the default point where the writer
  // sheds load (tested on its own in the writer's tests).
  const writer = await AuditWriter.open({
    dir: log.dir,
    keyFile: log.keyFile,
    maxPendingRecords: 250_000,
  });
  let started = performance.now();
  for (let i = 1; i <= 200_000; i++) {
    void writer.append(statementEvent(i));
    // Let batches go out now and then, as a gateway's event loop would.
    if (i % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await writer.close();
  t.diagnostic(`append + write 200k records: ${Math.round(performance.now() - started)} ms`);

  started = performance.now();
  const result = await verifyAuditLog(log.dir, loadAuditKey(log.keyFile));
  t.diagnostic(`verify 200k records: ${Math.round(performance.now() - started)} ms`);
  assert.ok(result.ok, result.ok ? '' : result.message);
  assert.deepEqual([result.records, result.firstSeq, result.lastSeq], [200_000, 1, 200_000]);
});
