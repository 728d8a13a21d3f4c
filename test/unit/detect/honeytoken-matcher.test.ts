import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AlertCandidate } from '../../../src/detect/alert-candidate.js';
import { HoneytokenRegistry } from '../../../src/detect/honeytoken/honeytoken-registry.js';
import { MarkerAutomaton } from '../../../src/detect/honeytoken/marker-automaton.js';
import { MessageScanner } from '../../../src/gateway/relay/message-scanner.js';

/** The honeytoken matcher: the automaton, and the per-session watch behind the relay's scanner. */

const message = (type: string, body: Buffer): Buffer => {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};
const dataRow = (fields: readonly (Buffer | string | null)[]): Buffer => {
  const parts: Buffer[] = [Buffer.from([fields.length >> 8, fields.length & 0xff])];
  for (const field of fields) {
    const length = Buffer.alloc(4);
    if (field === null) {
      length.writeInt32BE(-1);
      parts.push(length);
      continue;
    }
    const value = typeof field === 'string' ? Buffer.from(field) : field;
    length.writeInt32BE(value.length);
    parts.push(length, value);
  }
  return message('D', Buffer.concat(parts));
};
const copyData = (text: string): Buffer => message('d', Buffer.from(text));
const commandComplete = (tag: string): Buffer => message('C', Buffer.from(`${tag}\0`));
const errorResponse = (text: string): Buffer =>
  message('E', Buffer.from(`SERROR\0C22P02\0M${text}\0\0`));
const readyForQuery = (): Buffer => message('Z', Buffer.from('I'));

/** Cuts `bytes` at the given offsets. */
const cut = (bytes: Buffer, at: readonly number[]): Buffer[] => {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
};

const MARKERS = [
  { id: 1, database: 'app', table: 'public.customers', marker: 'jane.roe@example.org' },
  { id: 2, database: 'app', table: 'public.cards', marker: 'tok_8f3k2m9x7q' },
  // A marker inside another: both are found where the longer one is.
  { id: 3, database: 'app', table: 'public.notes', marker: 'roe@example.org' },
];

/** Runs a backend stream through a scanner with a watch; returns the honeytoken ids alerted, in order. */
function watchStream(
  chunks: readonly Buffer[],
  registry = registryWith(MARKERS),
): { ids: number[]; alerts: AlertCandidate[] } {
  const alerts: AlertCandidate[] = [];
  const watch = registry.watch(
    {
      session: 's1',
      address: '192.0.2.7',
      user: 'mallory',
      database: 'app',
      applicationName: 'psql',
    },
    (candidate) => alerts.push(candidate),
  );
  const scanner = new MessageScanner(0x7fffffff, undefined, watch);
  for (const chunk of chunks) scanner.scan(chunk);
  return { ids: alerts.map((a) => Number(a.key.split(':')[0])), alerts };
}

function registryWith(rows: typeof MARKERS): HoneytokenRegistry {
  const registry = new HoneytokenRegistry();
  registry.replace(rows);
  return registry;
}

describe('MarkerAutomaton', () => {
  const find = (patterns: string[], text: string, splits: number[] = []): string[] => {
    const automaton = MarkerAutomaton.build(patterns.map((p) => Buffer.from(p)));
    const found: string[] = [];
    let state = MarkerAutomaton.START;
    for (const chunk of cut(Buffer.from(text), splits)) {
      state = automaton.run(state, chunk, 0, chunk.length, (i) =>
        found.push(patterns[i] as string),
      );
    }
    return found;
  };

  it('finds every occurrence of every pattern, overlapping and nested ones included', () => {
    assert.deepEqual(find(['he', 'she', 'his', 'hers'], 'ushers'), ['she', 'he', 'hers']);
    assert.deepEqual(find(['aaa'], 'aaaaa'), ['aaa', 'aaa', 'aaa']);
    assert.deepEqual(find(['abcdefgh'], 'xxabcdefgxabcdefgh'), ['abcdefgh']);
    assert.deepEqual(find(['abcdefgh'], 'abcdefg'), []);
  });

  it('finds a pattern split across chunks at any point', () => {
    const text = 'id=7;email=jane.roe@example.org;';
    for (let split = 0; split <= text.length; split++) {
      assert.deepEqual(find(['jane.roe@example.org'], text, [split]), ['jane.roe@example.org']);
    }
  });

  it('agrees with a naive search on random texts and chunkings', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[abc]{1,5}$|^[abcd]{3,7}$/), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.stringMatching(/^[abcd]{0,60}$/),
        fc.array(fc.nat(), { maxLength: 8 }),
        (patterns, text, splits) => {
          const naive: string[] = [];
          for (let end = 1; end <= text.length; end++) {
            for (const p of patterns) if (text.slice(0, end).endsWith(p)) naive.push(p);
          }
          assert.deepEqual(find(patterns, text, splits).sort(), naive.sort());
        },
      ),
    );
  });

  it('skips ahead only where no long pattern can start (markers are 8 bytes or more)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[ab][abc]{7,11}$/), { minLength: 1, maxLength: 4 }),
        fc.array(fc.stringMatching(/^[abcxyz]{0,12}$/), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (patterns, fillers, splits) => {
          // Plant the patterns between random filler so matches actually occur.
          const text = fillers.map((f, i) => f + (patterns[i % patterns.length] ?? '')).join('');
          const naive: string[] = [];
          for (let end = 1; end <= text.length; end++) {
            for (const p of patterns) if (text.slice(0, end).endsWith(p)) naive.push(p);
          }
          assert.deepEqual(find(patterns, text, splits).sort(), naive.sort());
        },
      ),
    );
  });

  it('refuses an empty pattern', () => {
    assert.throws(() => MarkerAutomaton.build([Buffer.alloc(0)]), RangeError);
  });
});

describe('HoneytokenWatch behind the message scanner', () => {
  const rows = Buffer.concat([
    dataRow(['1', 'Ann Other', 'ann@example.org']),
    dataRow(['2', null, 'jane.roe@example.org']),
    commandComplete('SELECT 2'),
    readyForQuery(),
  ]);

  it('alerts for a marker in a DataRow field, at any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), (splits) => {
        // 'roe@example.org' (3) ends inside 'jane.roe@example.org' (1): both are read.
        assert.deepEqual(watchStream(cut(rows, splits)).ids.sort(), [1, 3]);
      }),
    );
  });

  it('reads values in the binary format too (the bytes of a text value are the same)', () => {
    const binary = dataRow([Buffer.from([0, 0, 0, 2]), Buffer.from('tok_8f3k2m9x7q')]);
    assert.deepEqual(watchStream([binary]).ids, [2]);
  });

  it('finds a marker inside a longer value (row_to_json, string_agg, concatenations)', () => {
    const json = dataRow(['{"id":2,"token":"tok_8f3k2m9x7q","ok":true}']);
    assert.deepEqual(watchStream([json]).ids, [2]);
  });

  it('never matches across two fields, whatever the chunking', () => {
    const straddle = dataRow(['tok_8f3k2', 'm9x7q']);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 6 }), (splits) => {
        assert.deepEqual(watchStream(cut(straddle, splits)).ids, []);
      }),
    );
  });

  it('does not match across fields through a NULL or an empty field', () => {
    const withNull = dataRow(['tok_8f3k', null, '2m9x7q']);
    const withEmpty = dataRow(['tok_8f3k', '', '2m9x7q']);
    assert.deepEqual(watchStream([withNull, withEmpty]).ids, []);
  });

  it('does not match across two DataRows', () => {
    assert.deepEqual(watchStream([dataRow(['tok_8f3k']), dataRow(['2m9x7q'])]).ids, []);
  });

  it('alerts once per session and honeytoken however often the row is read', () => {
    const again = Buffer.concat([rows, rows, rows]);
    const { ids } = watchStream([again]);
    assert.deepEqual(ids.sort(), [1, 3]);
  });

  it('reads COPY … TO STDOUT rows, also when a row is split over CopyData messages', () => {
    const copy = Buffer.concat([
      message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])),
      copyData('1\tAnn Other\tann@example.org\n'),
      copyData('2\tJane\ttok_8f3k'),
      copyData('2m9x7q\n'),
      message('c', Buffer.alloc(0)),
      commandComplete('COPY 2'),
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (splits) => {
        assert.deepEqual(watchStream(cut(copy, splits)).ids, [2]);
      }),
    );
  });

  it('reads the value an error quotes (error-based extraction)', () => {
    const error = errorResponse('invalid input syntax for type integer: "tok_8f3k2m9x7q"');
    assert.deepEqual(watchStream([error]).ids, [2]);
  });

  it('ignores markers in messages that carry no data (a command tag, a row description)', () => {
    const other = Buffer.concat([
      commandComplete('tok_8f3k2m9x7q'),
      message('T', Buffer.from('\0\x01tok_8f3k2m9x7q\0')),
    ]);
    assert.deepEqual(watchStream([other]).ids, []);
  });

  it('builds the alert from the session and the honeytoken id, never the marker', () => {
    const { alerts } = watchStream([rows]);
    const alert = alerts.find((a) => a.key.startsWith('1:'));
    assert.ok(alert);
    assert.equal(alert.type, 'honeytoken.read');
    assert.equal(alert.key, '1:mallory');
    assert.deepEqual(alert.subject, { session: 's1', address: '192.0.2.7', user: 'mallory' });
    assert.match(alert.summary, /honeytoken 1 \(app\.public\.customers\) in a DataRow/);
    const [evidence] = alert.evidence;
    assert.equal(evidence?.database, 'app');
    assert.equal(evidence?.applicationName, 'psql');
    assert.equal(evidence?.address, '192.0.2.7');
    assert.doesNotMatch(JSON.stringify(alert), /example\.org/);
  });

  it('costs nothing without honeytokens: the watch is never called', () => {
    const registry = new HoneytokenRegistry();
    assert.ok(registry.wants.every((w) => w === 0));
    const watch = registry.watch(
      { session: 's', address: 'a', user: 'u', database: 'd', applicationName: undefined },
      () => assert.fail('no honeytokens, no alert'),
    );
    let calls = 0;
    const counting = {
      wants: watch.wants,
      begin: () => calls++,
      body: () => calls++,
      end: () => calls++,
    };
    new MessageScanner(0x7fffffff, undefined, counting).scan(rows);
    assert.equal(calls, 0);
  });

  it('follows a reload: a new honeytoken is watched from the next message, a removed one no more', () => {
    const registry = registryWith([]);
    const alerts: number[] = [];
    const watch = registry.watch(
      { session: 's', address: 'a', user: 'u', database: 'd', applicationName: undefined },
      (c) => alerts.push(Number(c.key.split(':')[0])),
    );
    const scanner = new MessageScanner(0x7fffffff, undefined, watch);
    scanner.scan(dataRow(['tok_8f3k2m9x7q']));
    assert.deepEqual(alerts, []);
    assert.equal(registry.replace(MARKERS), true);
    assert.equal(registry.replace(MARKERS), false, 'an unchanged reload keeps the set');
    scanner.scan(dataRow(['tok_8f3k2m9x7q']));
    assert.deepEqual(alerts, [2]);
    registry.replace(MARKERS.filter((m) => m.id !== 1));
    scanner.scan(dataRow(['jane.roe@example.org']));
    assert.deepEqual(alerts, [2, 3], 'honeytoken 1 is gone, 3 still matches inside its value');
    registry.replace([]);
    assert.ok(registry.wants.every((w) => w === 0));
  });
});
