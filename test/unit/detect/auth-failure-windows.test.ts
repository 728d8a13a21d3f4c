import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Evidence } from '../../../src/detect/alert-candidate.js';
import { FailureWindows, keyBudget } from '../../../src/detect/auth/failure-windows.js';
import { RecentMap } from '../../../src/gateway/throttle/recent-map.js';

/** Issue 7: the sliding windows the brute-force detectors count in, with injected time. */

const item = (n: number): Evidence => ({
  time: new Date(n).toISOString(),
  event: 'auth.failed',
  detail: `#${n}`,
});

describe('FailureWindows', () => {
  const windows = (threshold = 3, windowMs = 10_000, maxKeys = 100) =>
    new FailureWindows({ threshold, windowMs, maxKeys });

  it('raises once when the count reaches the threshold, with the failures as evidence', () => {
    const w = windows();
    assert.equal(w.add('a', 1000, item(1000)), undefined);
    assert.equal(w.add('a', 2000, item(2000)), undefined);
    const hit = w.add('a', 3000, item(3000));
    assert.equal(hit?.kind, 'crossed');
    assert.equal(hit?.count, 3);
    assert.deepEqual(
      hit?.evidence.map((e) => e.detail),
      ['#1000', '#2000', '#3000'],
    );
  });

  it('does not raise again for further failures within a minute, then repeats once', () => {
    const w = windows(3, 120_000);
    for (const t of [0, 1, 2]) w.add('a', t, item(t));
    for (let t = 1000; t < 60_000; t += 1000)
      assert.equal(w.add('a', t, item(t)), undefined, `${t}`);
    const repeat = w.add('a', 60_002, item(60_002));
    assert.equal(repeat?.kind, 'repeat');
    assert.equal(repeat?.count, 60, 'failures since the alert');
    assert.equal(
      w.add('a', 60_003, item(60_003)),
      undefined,
      'the next repeat waits a minute again',
    );
  });

  it('counts only failures inside the window', () => {
    const w = windows(3, 10_000);
    w.add('a', 0, item(0));
    w.add('a', 5000, item(5000));
    assert.equal(w.add('a', 10_000, item(10_000)), undefined, 'the first one just left the window');
    assert.equal(w.recent('a', 10_000).count, 2);
    assert.equal(w.add('a', 11_000, item(11_000))?.kind, 'crossed');
  });

  it('raises a new crossing after the count fell below the threshold', () => {
    const w = windows(2, 10_000);
    w.add('a', 0, item(0));
    assert.equal(w.add('a', 1, item(1))?.kind, 'crossed');
    w.add('a', 20_000, item(20_000)); // the others expired: below again
    assert.equal(w.add('a', 20_001, item(20_001))?.kind, 'crossed');
  });

  it('keeps keys apart', () => {
    const w = windows(2);
    w.add('a', 0, item(0));
    assert.equal(w.add('b', 1, item(1)), undefined);
    assert.equal(w.add('a', 2, item(2))?.kind, 'crossed');
  });

  it('tracks at most maxKeys keys, forgetting the least recently seen', () => {
    const w = windows(2, 60_000, 3);
    w.add('a', 0, item(0));
    w.add('b', 1, item(1));
    w.add('c', 2, item(2));
    w.add('a', 3, item(3)); // a crosses and is now the most recent
    w.add('d', 4, item(4)); // evicts b
    assert.equal(w.size, 3);
    assert.equal(w.recent('b', 5).count, 0, 'b was forgotten');
    assert.equal(w.recent('c', 5).count, 1);
    assert.equal(w.add('b', 6, item(6)), undefined, 'b starts again from one');
  });

  it('keeps at most the threshold or 20 failures of evidence per key', () => {
    const big = windows(50, 1_000_000);
    let hit: ReturnType<FailureWindows['add']>;
    for (let t = 0; t < 50; t++) hit = big.add('a', t, item(t));
    assert.equal(hit?.kind, 'crossed');
    assert.equal(hit?.evidence.length, 20);
    assert.equal(hit?.evidence.at(-1)?.detail, '#49', 'the latest kept');
  });

  it('bounds the keys it tracks by the threshold', () => {
    assert.equal(keyBudget(10), 10_000);
    assert.equal(keyBudget(100), 1000);
    assert.equal(keyBudget(1_000_000), 100);
  });
});

describe('RecentMap', () => {
  it('evicts the least recently touched key beyond its capacity', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    assert.equal(map.get('a'), 1); // a is now the most recent
    map.set('c', 3);
    assert.equal(map.peek('b'), undefined);
    assert.equal(map.peek('a'), 1);
    assert.equal(map.size, 2);
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => new RecentMap(0), RangeError);
  });
});
