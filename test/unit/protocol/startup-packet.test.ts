import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  GSSENC_REQUEST,
  parseStartupPacket,
  SSL_REQUEST,
  serializeCancelRequest,
  serializeStartupMessage,
} from '../../../src/protocol/frontend/startup-packet.js';
import { MalformedMessageError } from '../../../src/protocol/malformed-message-error.js';
import { SQLSTATE } from '../../../src/protocol/sqlstate.js';
import { frameOne } from './protocol-test-helpers.js';

const text = fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !s.includes('\0'));

/** A startup packet body: the Int32 version or code, then the given bytes. */
function body(code: number, ...rest: (string | Buffer)[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(code);
  return Buffer.concat([
    head,
    ...rest.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)),
  ]);
}

const V3_0 = 196608;

function refusal(sqlState: string, message: RegExp) {
  return (thrown: unknown): boolean => {
    assert.ok(thrown instanceof MalformedMessageError);
    assert.equal(thrown.sqlState, sqlState);
    assert.match(thrown.message, message);
    return true;
  };
}

describe('StartupMessage', () => {
  it('round-trips any parameters with a user, in order, for minors 0 to 65535', () => {
    const name = text.filter((s) => s !== '' && s !== 'user');
    const parameters = fc.uniqueArray(fc.tuple(name, text), { selector: ([k]) => k, maxLength: 5 });
    fc.assert(
      fc.property(
        text.filter((s) => s !== ''),
        parameters,
        fc.integer({ min: 0, max: 0xffff }),
        (user, rest, minor) => {
          const input = new Map([['user', user], ...rest]);
          const frame = frameOne(serializeStartupMessage(input, minor), 'startup');
          assert.equal(frame.type, null);
          assert.deepEqual(parseStartupPacket(frame.body), {
            kind: 'startup',
            major: 3,
            minor,
            parameters: input,
          });
        },
      ),
    );
  });

  it('serialises a plain record in the same way as a Map', () => {
    const fromRecord = serializeStartupMessage({ user: 'alice', database: 'app' });
    const fromMap = serializeStartupMessage(
      new Map([
        ['user', 'alice'],
        ['database', 'app'],
      ]),
    );
    assert.deepEqual(fromRecord, fromMap);
    assert.equal(fromRecord.readUInt32BE(4), V3_0);
    assert.equal(fromRecord.readUInt32BE(0), fromRecord.length);
  });

  it('accepts protocol 3.2 and reports the minor', () => {
    const packet = parseStartupPacket(body(V3_0 + 2, 'user\0bob\0\0'));
    assert.equal(packet.kind, 'startup');
    assert.equal(packet.kind === 'startup' && packet.minor, 2);
  });

  it('refuses protocol 2.0 with feature_not_supported', () => {
    assert.throws(
      () => parseStartupPacket(body(2 << 16, 'user\0bob\0\0')),
      refusal(SQLSTATE.FEATURE_NOT_SUPPORTED, /unsupported frontend protocol 2\.0/),
    );
    assert.throws(() => parseStartupPacket(body(4 << 16, 'user\0bob\0\0')), /protocol 4\.0/);
  });

  it('refuses a missing or empty user with invalid_authorization_specification', () => {
    const noUser = refusal(SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION, /no user name/);
    assert.throws(() => parseStartupPacket(body(V3_0, 'database\0app\0\0')), noUser);
    assert.throws(() => parseStartupPacket(body(V3_0, '\0')), noUser);
    assert.throws(() => parseStartupPacket(body(V3_0, 'user\0\0\0')), noUser);
  });

  it('refuses a parameter list without its terminating zero byte', () => {
    assert.throws(
      () => parseStartupPacket(body(V3_0, 'user\0bob\0')),
      refusal(SQLSTATE.PROTOCOL_VIOLATION, /no terminating zero byte/),
    );
    assert.throws(() => parseStartupPacket(body(V3_0)), /no terminating zero byte/);
    assert.throws(() => parseStartupPacket(body(V3_0, 'user\0bob')), /no NUL terminator/);
  });

  it('refuses bytes after the terminator, and duplicate names', () => {
    assert.throws(() => parseStartupPacket(body(V3_0, 'user\0bob\0\0x')), /unexpected bytes/);
    assert.throws(
      () => parseStartupPacket(body(V3_0, 'user\0bob\0user\0eve\0\0')),
      refusal(SQLSTATE.PROTOCOL_VIOLATION, /"user" is given twice/),
    );
  });

  it('refuses to serialise an empty parameter name, which would end the list early', () => {
    assert.throws(() => serializeStartupMessage({ user: 'a', '': 'b' }), RangeError);
  });
});

describe('SSLRequest, GSSENCRequest and CancelRequest', () => {
  it('serialises SSLRequest and GSSENCRequest as length 8 and codes 80877103 and 80877104', () => {
    assert.deepEqual([...SSL_REQUEST], [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    assert.deepEqual([...GSSENC_REQUEST], [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);
    assert.deepEqual(parseStartupPacket(frameOne(SSL_REQUEST, 'startup').body), {
      kind: 'ssl-request',
    });
    assert.deepEqual(parseStartupPacket(frameOne(GSSENC_REQUEST, 'startup').body), {
      kind: 'gssenc-request',
    });
  });

  it('refuses an SSLRequest with extra bytes', () => {
    assert.throws(() => parseStartupPacket(body(80877103, '\0')), MalformedMessageError);
  });

  it('round-trips CancelRequest with keys of 4 (protocol 3.0) to 256 bytes (3.2)', () => {
    const key = fc.uint8Array({ minLength: 4, maxLength: 256 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        key,
        (processId, secretKey) => {
          const wire = serializeCancelRequest(processId, secretKey);
          assert.equal(wire.readUInt32BE(4), 80877102);
          const packet = parseStartupPacket(frameOne(wire, 'startup').body);
          assert.deepEqual(packet, { kind: 'cancel-request', processId, secretKey });
        },
      ),
    );
  });

  it('refuses CancelRequest keys shorter than 4 or longer than 256 bytes', () => {
    const pid = Buffer.from([0, 0, 0, 42]);
    assert.throws(
      () => parseStartupPacket(body(80877102, pid, Buffer.alloc(3))),
      /secret key of 3 bytes/,
    );
    assert.throws(() => parseStartupPacket(body(80877102, pid, Buffer.alloc(257))), /257 bytes/);
    assert.throws(
      () => parseStartupPacket(body(80877102, Buffer.from([0, 0]))),
      MalformedMessageError,
    );
    assert.throws(() => serializeCancelRequest(1, Buffer.alloc(257)), RangeError);
  });
});
