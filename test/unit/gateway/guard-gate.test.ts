import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type GateCheck, StatementGate } from '../../../src/gateway/guard/statement-gate.js';
import { GUARDED_MESSAGES } from '../../../src/gateway/guard/statement-guard.js';
import { serializeParse } from '../../../src/protocol/frontend/parse.js';
import { serializeQuery } from '../../../src/protocol/frontend/query.js';

/** The gate in front of the backend: holds Query and Parse whole, passes the rest as it came. */

const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const bind = (): Buffer => {
  const body = Buffer.from('\0\0\0\0\0\0\0\0', 'latin1'); // portal, statement, 0 formats, 0 params, 0 result formats
  const header = Buffer.from([0x42, 0, 0, 0, 0]);
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
};
const copyData = (size: number): Buffer => {
  const header = Buffer.from([0x64, 0, 0, 0, 0]);
  header.writeInt32BE(4 + size, 1);
  return Buffer.concat([header, Buffer.alloc(size, 0x61)]);
};

/** Replaces any message whose text says REFUSE with a Query of 'refused'. */
const check: GateCheck = (_type, message) =>
  message.includes('REFUSE') ? serializeQuery('refused') : undefined;

function run(chunks: readonly Buffer[], gateCheck: GateCheck = check) {
  const written: Buffer[] = [];
  let resumed = 0;
  const gate = new StatementGate(GUARDED_MESSAGES, gateCheck, {
    write: (bytes) => {
      written.push(bytes);
      return true;
    },
    resume: () => resumed++,
    fail: (error) => assert.fail(String(error)),
  });
  const flowing = chunks.map((chunk) => gate.push(chunk));
  return { gate, written, flowing, output: () => Buffer.concat(written), resumed: () => resumed };
}

/** Cuts `stream` at the given offsets. */
function split(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(from, point));
    from = point;
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

describe('statement gate', () => {
  it('forwards a chunk of allowed messages as the same buffer, without a copy', () => {
    const chunk = Buffer.concat([
      serializeParse({ statement: 's', query: 'SELECT $1', parameterTypes: [23] }),
      bind(),
      SYNC,
      serializeQuery('SELECT 1'),
    ]);
    const { written } = run([chunk]);
    assert.equal(written.length, 1);
    assert.equal(written[0]?.buffer, chunk.buffer, 'same memory');
    assert.equal(written[0]?.length, chunk.length);
  });

  it('replaces a refused message in place, keeping what is around it', () => {
    const before = serializeQuery('SELECT 1');
    const after = Buffer.concat([bind(), SYNC]);
    const { output } = run([Buffer.concat([before, serializeQuery('REFUSE me'), after])]);
    assert.deepEqual(output(), Buffer.concat([before, serializeQuery('refused'), after]));
  });

  it('gives the same bytes for any chunking (property)', () => {
    const stream = Buffer.concat([
      serializeQuery('SELECT 1'),
      copyData(300),
      serializeParse({ statement: '', query: 'REFUSE this', parameterTypes: [] }),
      bind(),
      SYNC,
      serializeQuery('REFUSE that too'),
      serializeQuery(`SELECT '${'x'.repeat(200)}'`),
      SYNC,
    ]);
    const expected = run([stream]).output();
    assert.equal(expected.includes('REFUSE'), false);
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), (cuts) => {
        const { output } = run(split(stream, cuts));
        assert.deepEqual(output(), expected);
      }),
    );
  });

  it('holds a message cut across chunks until it is whole, sending what came before', () => {
    const query = serializeQuery('REFUSE split');
    const first = Buffer.concat([SYNC, query.subarray(0, 3)]);
    const { written, output } = run([first]);
    assert.deepEqual(output(), SYNC, 'only the bytes before the held message');
    const { output: whole } = run([first, query.subarray(3, 9), query.subarray(9)]);
    assert.deepEqual(whole(), Buffer.concat([SYNC, serializeQuery('refused')]));
    assert.ok(written.length <= 1);
  });

  it('keeps the order while a check is pending, then resumes the client', async () => {
    let release!: (value: Buffer | undefined) => void;
    const pending = new Promise<Buffer | undefined>((resolve) => {
      release = resolve;
    });
    const slow: GateCheck = (_type, message) =>
      message.includes('SLOW') ? pending : check(_type, message);
    const slowQuery = serializeQuery('SLOW grant');
    const later = Buffer.concat([serializeQuery('SELECT 2'), SYNC]);
    const { output, flowing, resumed } = run(
      [
        Buffer.concat([serializeQuery('SELECT 1'), slowQuery, later.subarray(0, 4)]),
        later.subarray(4),
      ],
      slow,
    );
    assert.deepEqual(flowing, [false, false], 'the client is paused while the check runs');
    assert.deepEqual(output(), serializeQuery('SELECT 1'));
    release(serializeQuery('refused'));
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      output(),
      Buffer.concat([serializeQuery('SELECT 1'), serializeQuery('refused'), later]),
    );
    assert.equal(resumed(), 1);
  });

  it('sends nothing more once closed', async () => {
    let release!: (value: Buffer | undefined) => void;
    const pending = new Promise<Buffer | undefined>((resolve) => {
      release = resolve;
    });
    const { gate, output } = run([serializeQuery('SLOW'), SYNC], () => pending);
    gate.close();
    release(undefined);
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(output().length, 0);
    assert.equal(gate.push(SYNC), false);
  });
});
