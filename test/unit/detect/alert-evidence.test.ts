import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Evidence, MAX_EVIDENCE } from '../../../src/detect/alert-candidate.js';
import { FIRST_EVIDENCE, mergeEvidence } from '../../../src/detect/alert-store-evidence.js';

function item(n: number, extra: Partial<Evidence> = {}): Evidence {
  return {
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    event: 'auth.failed',
    address: '203.0.113.9',
    user: 'app',
    detail: `attempt ${n}`,
    ...extra,
  };
}

const details = (items: readonly Evidence[]): string[] => items.map((e) => e.detail ?? '');

describe('mergeEvidence', () => {
  it('keeps everything, in order, while it fits', () => {
    const merged = mergeEvidence([item(1), item(2)], [item(3)]);
    assert.deepEqual(details(merged), ['attempt 1', 'attempt 2', 'attempt 3']);
  });

  it('keeps the first and the latest items when there are too many', () => {
    const kept = Array.from({ length: 15 }, (_, i) => item(i));
    const incoming = Array.from({ length: 15 }, (_, i) => item(100 + i));
    const merged = mergeEvidence(kept, incoming);
    assert.equal(merged.length, MAX_EVIDENCE);
    assert.deepEqual(details(merged), [
      ...Array.from({ length: FIRST_EVIDENCE }, (_, i) => `attempt ${i}`),
      ...Array.from({ length: MAX_EVIDENCE - FIRST_EVIDENCE }, (_, i) => `attempt ${105 + i}`),
    ]);
  });

  it('stays anchored at the first items over many merges', () => {
    let kept: Evidence[] = [];
    for (let n = 0; n < 200; n++) kept = mergeEvidence(kept, [item(n)]);
    assert.equal(kept.length, MAX_EVIDENCE);
    assert.equal(kept[0]?.detail, 'attempt 0');
    assert.equal(kept[FIRST_EVIDENCE - 1]?.detail, `attempt ${FIRST_EVIDENCE - 1}`);
    assert.equal(kept.at(-1)?.detail, 'attempt 199');
    assert.equal(kept[FIRST_EVIDENCE]?.detail, `attempt ${200 - (MAX_EVIDENCE - FIRST_EVIDENCE)}`);
  });

  it('drops identical items, whatever their key order or undefined fields', () => {
    const stored = JSON.parse(
      '{"user":"app","time":"2025-01-01T00:00:01.000Z","event":"auth.failed","detail":"attempt 1","address":"203.0.113.9"}',
    ) as Evidence;
    const merged = mergeEvidence([stored], [item(1, { database: undefined }), item(1), item(2)]);
    assert.deepEqual(details(merged), ['attempt 1', 'attempt 2']);
  });

  it('keeps items that differ in any field', () => {
    const merged = mergeEvidence([item(1)], [item(1, { address: '198.51.100.7' })]);
    assert.equal(merged.length, 2);
  });

  it('deduplicates within one batch, and bounds a batch alone', () => {
    const batch = [...Array.from({ length: 30 }, (_, i) => item(i)), item(0)];
    const merged = mergeEvidence([], batch);
    assert.equal(merged.length, MAX_EVIDENCE);
    assert.equal(merged[0]?.detail, 'attempt 0');
    assert.equal(merged.at(-1)?.detail, 'attempt 29');
  });
});
