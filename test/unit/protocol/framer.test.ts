import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageFramer } from '../../../src/protocol/framer.js';
import { FramingError } from '../../../src/protocol/framing-error.js';
import { serializeQuery } from '../../../src/protocol/frontend/query.js';
import {
  SSL_REQUEST,
  serializeCancelRequest,
  serializeStartupMessage,
} from '../../../src/protocol/frontend/startup-packet.js';
import { TERMINATE } from '../../../src/protocol/frontend/terminate.js';
import { FrontendMessageType } from '../../../src/protocol/message-types.js';

describe('MessageFramer', () => {
  it('refuses a limit that cannot hold a startup packet', () => {
    assert.throws(() => new MessageFramer({ maxMessageLength: 7 }), RangeError);
    assert.throws(() => new MessageFramer({ maxMessageLength: 8.5 }), RangeError);
    assert.equal(new MessageFramer({ maxMessageLength: 8 }).mode, 'startup');
  });

  it('stays in startup mode after SSLRequest and CancelRequest', () => {
    const framer = new MessageFramer({ maxMessageLength: 1024 });
    assert.equal(framer.push(SSL_REQUEST).length, 1);
    assert.equal(framer.mode, 'startup');
    assert.equal(framer.push(serializeCancelRequest(1, Buffer.alloc(4))).length, 1);
    assert.equal(framer.mode, 'startup');
  });

  it('switches to typed after a StartupMessage, framing what follows in the same chunk', () => {
    const framer = new MessageFramer({ maxMessageLength: 1024 });
    const startup = serializeStartupMessage({ user: 'u' });
    const query = serializeQuery('select 1');
    const frames = framer.push(Buffer.concat([SSL_REQUEST, startup, query, TERMINATE]));
    assert.deepEqual(
      frames.map((f) => f.type),
      [null, null, FrontendMessageType.QUERY, FrontendMessageType.TERMINATE],
    );
    assert.equal(framer.mode, 'typed');
    assert.deepEqual(frames[2]?.raw, query);
  });

  it('accepts a message whose declared length equals the limit', () => {
    const framer = new MessageFramer({ maxMessageLength: 14, mode: 'typed' });
    const [frame] = framer.push(serializeQuery('123456789'));
    assert.equal(frame?.raw.readUInt32BE(1), 14);
    assert.throws(() => framer.push(serializeQuery('1234567890')), { name: 'FramingError' });
  });

  it('lets the caller change mode only between messages', () => {
    const framer = new MessageFramer({ maxMessageLength: 1024, mode: 'typed' });
    framer.push(TERMINATE.subarray(0, 2));
    assert.throws(() => {
      framer.mode = 'startup';
    }, /cannot change/);
    framer.mode = 'typed';
    assert.equal(framer.push(TERMINATE.subarray(2)).length, 1);
    framer.mode = 'startup';
    assert.equal(framer.mode, 'startup');
  });

  it('keeps failing after a FramingError: the stream cannot be resynchronised', () => {
    const framer = new MessageFramer({ maxMessageLength: 1024, mode: 'typed' });
    let first: unknown;
    try {
      framer.push(Buffer.from([0x51, 0, 0, 0, 3]));
    } catch (error) {
      first = error;
    }
    assert.ok(first instanceof FramingError);
    assert.equal(first.kind, 'malformed');
    assert.equal(first.sqlState, '08P01');
    assert.equal(first.declaredLength, 3);
    assert.throws(
      () => framer.push(TERMINATE),
      (error) => error === first,
    );
  });

  it('returns no frames for an empty chunk', () => {
    const framer = new MessageFramer({ maxMessageLength: 1024, mode: 'typed' });
    assert.deepEqual(framer.push(Buffer.alloc(0)), []);
    assert.equal(framer.pending(), 0);
  });
});
