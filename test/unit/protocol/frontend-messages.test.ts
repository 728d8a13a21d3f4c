import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseParse, serializeParse } from '../../../src/protocol/frontend/parse.js';
import {
  parsePasswordMessage,
  serializePasswordMessage,
} from '../../../src/protocol/frontend/password-message.js';
import { parseQuery, serializeQuery } from '../../../src/protocol/frontend/query.js';
import {
  parseSaslInitialResponse,
  serializeSaslInitialResponse,
} from '../../../src/protocol/frontend/sasl-initial-response.js';
import {
  parseSaslResponse,
  serializeSaslResponse,
} from '../../../src/protocol/frontend/sasl-response.js';
import { TERMINATE } from '../../../src/protocol/frontend/terminate.js';
import { MalformedMessageError } from '../../../src/protocol/malformed-message-error.js';
import { FrontendMessageType } from '../../../src/protocol/message-types.js';
import { frameOne } from './protocol-test-helpers.js';

/** Strings a protocol String can carry: any code point but NUL. */
const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
const bytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));

describe('frontend messages round-trip (serialise → frame → parse)', () => {
  it('PasswordMessage', () => {
    fc.assert(
      fc.property(text, (password) => {
        const frame = frameOne(serializePasswordMessage(password));
        assert.equal(frame.type, FrontendMessageType.PASSWORD_MESSAGE);
        assert.equal(parsePasswordMessage(frame.body), password);
      }),
    );
  });

  it('SASLInitialResponse, with and without data', () => {
    fc.assert(
      fc.property(text, fc.option(bytes), (mechanism, data) => {
        const frame = frameOne(serializeSaslInitialResponse(mechanism, data));
        assert.equal(frame.type, FrontendMessageType.PASSWORD_MESSAGE);
        assert.deepEqual(parseSaslInitialResponse(frame.body), { mechanism, data });
      }),
    );
  });

  it('SASLResponse', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        const frame = frameOne(serializeSaslResponse(data));
        assert.equal(frame.type, FrontendMessageType.PASSWORD_MESSAGE);
        assert.deepEqual(parseSaslResponse(frame.body), data);
      }),
    );
  });

  it('Query', () => {
    fc.assert(
      fc.property(text, (sql) => {
        const frame = frameOne(serializeQuery(sql));
        assert.equal(frame.type, FrontendMessageType.QUERY);
        assert.equal(parseQuery(frame.body), sql);
      }),
    );
  });

  it('Parse', () => {
    const parse = fc.record(
      {
        statement: text,
        query: text,
        parameterTypes: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 }),
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(parse, (message) => {
        const frame = frameOne(serializeParse(message));
        assert.equal(frame.type, FrontendMessageType.PARSE);
        assert.deepEqual(parseParse(frame.body), message);
      }),
    );
  });

  it('Terminate is the five bytes X, 0, 0, 0, 4', () => {
    assert.deepEqual([...TERMINATE], [0x58, 0, 0, 0, 4]);
    const frame = frameOne(TERMINATE);
    assert.equal(frame.type, FrontendMessageType.TERMINATE);
    assert.equal(frame.body.length, 0);
  });
});

describe('frontend message parsers refuse malformed bodies', () => {
  it('refuses trailing bytes after the String of a Query or PasswordMessage', () => {
    assert.throws(() => parseQuery(Buffer.from('select 1\0x')), MalformedMessageError);
    assert.throws(() => parsePasswordMessage(Buffer.from('secret\0\0')), MalformedMessageError);
  });

  it('refuses a String without its NUL, naming the message', () => {
    assert.throws(() => parseQuery(Buffer.from('select 1')), {
      name: 'MalformedMessageError',
      message: /malformed Query: .*no NUL terminator/,
    });
  });

  it('refuses a SASLInitialResponse whose data length disagrees with the body', () => {
    const wire = serializeSaslInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=,r=abc'));
    const body = frameOne(wire).body;
    assert.throws(() => parseSaslInitialResponse(body.subarray(0, -1)), MalformedMessageError);
    const negative = Buffer.concat([
      Buffer.from('SCRAM-SHA-256\0'),
      Buffer.from([0xff, 0xff, 0xff, 0xfe]),
    ]);
    assert.throws(() => parseSaslInitialResponse(negative), /invalid data length -2/);
  });

  it('refuses a Parse whose parameter count does not match the OIDs that follow', () => {
    const body = frameOne(
      serializeParse({ statement: 's', query: 'q', parameterTypes: [23, 25] }),
    ).body;
    assert.throws(
      () => parseParse(body.subarray(0, -4)),
      /2 parameter types declared, but 4 bytes/,
    );
    assert.throws(() => parseParse(Buffer.concat([body, Buffer.alloc(4)])), MalformedMessageError);
  });

  it('cannot serialise a String holding NUL', () => {
    assert.throws(() => serializeQuery('a\0b'), TypeError);
  });
});
