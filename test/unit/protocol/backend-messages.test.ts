import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AUTHENTICATION_CLEARTEXT_PASSWORD,
  AUTHENTICATION_OK,
  parseAuthentication,
  serializeAuthenticationSasl,
  serializeAuthenticationSaslContinue,
  serializeAuthenticationSaslFinal,
} from '../../../src/protocol/backend/authentication.js';
import {
  parseBackendKeyData,
  serializeBackendKeyData,
} from '../../../src/protocol/backend/backend-key-data.js';
import {
  parseNegotiateProtocolVersion,
  serializeNegotiateProtocolVersion,
} from '../../../src/protocol/backend/negotiate-protocol-version.js';
import {
  parseParameterStatus,
  serializeParameterStatus,
} from '../../../src/protocol/backend/parameter-status.js';
import {
  parseReadyForQuery,
  serializeReadyForQuery,
} from '../../../src/protocol/backend/ready-for-query.js';
import { MalformedMessageError } from '../../../src/protocol/malformed-message-error.js';
import { BackendMessageType } from '../../../src/protocol/message-types.js';
import { frameOne } from './protocol-test-helpers.js';

const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
const bytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
const secretKey = fc.uint8Array({ minLength: 4, maxLength: 256 }).map((b) => Buffer.from(b));
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });

describe('backend messages round-trip (serialise → frame → parse)', () => {
  it('AuthenticationOk and AuthenticationCleartextPassword', () => {
    const ok = frameOne(AUTHENTICATION_OK);
    assert.equal(ok.type, BackendMessageType.AUTHENTICATION);
    assert.deepEqual(parseAuthentication(ok.body), { kind: 'ok' });
    const cleartext = frameOne(AUTHENTICATION_CLEARTEXT_PASSWORD);
    assert.deepEqual(parseAuthentication(cleartext.body), { kind: 'cleartext-password' });
  });

  it('AuthenticationSASL', () => {
    const mechanism = text.filter((s) => s !== '');
    fc.assert(
      fc.property(fc.array(mechanism, { minLength: 1, maxLength: 4 }), (mechanisms) => {
        const frame = frameOne(serializeAuthenticationSasl(mechanisms));
        assert.equal(frame.type, BackendMessageType.AUTHENTICATION);
        assert.deepEqual(parseAuthentication(frame.body), { kind: 'sasl', mechanisms });
      }),
    );
  });

  it('AuthenticationSASLContinue and AuthenticationSASLFinal', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        const next = frameOne(serializeAuthenticationSaslContinue(data));
        assert.deepEqual(parseAuthentication(next.body), { kind: 'sasl-continue', data });
        const final = frameOne(serializeAuthenticationSaslFinal(data));
        assert.deepEqual(parseAuthentication(final.body), { kind: 'sasl-final', data });
      }),
    );
  });

  it('ParameterStatus', () => {
    fc.assert(
      fc.property(text, text, (name, value) => {
        const frame = frameOne(serializeParameterStatus(name, value));
        assert.equal(frame.type, BackendMessageType.PARAMETER_STATUS);
        assert.deepEqual(parseParameterStatus(frame.body), { name, value });
      }),
    );
  });

  it('BackendKeyData, with keys of 4 to 256 bytes', () => {
    fc.assert(
      fc.property(int32, secretKey, (processId, key) => {
        const frame = frameOne(serializeBackendKeyData(processId, key));
        assert.equal(frame.type, BackendMessageType.BACKEND_KEY_DATA);
        assert.deepEqual(parseBackendKeyData(frame.body), { processId, secretKey: key });
      }),
    );
  });

  it('ReadyForQuery', () => {
    for (const status of ['I', 'T', 'E'] as const) {
      const frame = frameOne(serializeReadyForQuery(status));
      assert.equal(frame.type, BackendMessageType.READY_FOR_QUERY);
      assert.equal(parseReadyForQuery(frame.body), status);
    }
  });

  it('NegotiateProtocolVersion', () => {
    const option = text.map((s) => `_pq_.${s}`);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.array(option, { maxLength: 4 }),
        (newestMinor, options) => {
          const frame = frameOne(serializeNegotiateProtocolVersion(newestMinor, options));
          assert.equal(frame.type, BackendMessageType.NEGOTIATE_PROTOCOL_VERSION);
          assert.deepEqual(parseNegotiateProtocolVersion(frame.body), {
            newestMinor,
            unrecognisedOptions: options,
          });
        },
      ),
    );
  });
});

describe('backend message details', () => {
  it('sends the whole protocol version in NegotiateProtocolVersion, as servers do', () => {
    const frame = frameOne(serializeNegotiateProtocolVersion(2, ['_pq_.x']));
    assert.equal(frame.body.readUInt32BE(0), (3 << 16) | 2);
    assert.equal(frame.body.readInt32BE(4), 1);
  });

  it('parses an AuthenticationMD5Password salt and reports other methods by code', () => {
    const md5 = Buffer.from([0, 0, 0, 5, 1, 2, 3, 4]);
    assert.deepEqual(parseAuthentication(md5), {
      kind: 'md5-password',
      salt: Buffer.from([1, 2, 3, 4]),
    });
    assert.throws(() => parseAuthentication(md5.subarray(0, 7)), MalformedMessageError);
    assert.deepEqual(parseAuthentication(Buffer.from([0, 0, 0, 7])), { kind: 'other', code: 7 });
  });

  it('refuses an AuthenticationSASL without mechanisms or without its terminator', () => {
    assert.throws(() => parseAuthentication(Buffer.from([0, 0, 0, 10, 0])), /lists no mechanism/);
    const unterminated = Buffer.concat([
      Buffer.from([0, 0, 0, 10]),
      Buffer.from('SCRAM-SHA-256\0'),
    ]);
    assert.throws(() => parseAuthentication(unterminated), /no terminator/);
  });

  it('refuses BackendKeyData keys shorter than 4 or longer than 256 bytes', () => {
    const pid = Buffer.from([0, 0, 0, 1]);
    assert.throws(
      () => parseBackendKeyData(Buffer.concat([pid, Buffer.alloc(3)])),
      MalformedMessageError,
    );
    assert.throws(
      () => parseBackendKeyData(Buffer.concat([pid, Buffer.alloc(257)])),
      MalformedMessageError,
    );
    assert.throws(() => serializeBackendKeyData(1, Buffer.alloc(3)), RangeError);
  });

  it('copies the BackendKeyData secret key out of the frame', () => {
    const body = frameOne(serializeBackendKeyData(7, Buffer.from([1, 2, 3, 4]))).body;
    const { secretKey } = parseBackendKeyData(body);
    body.fill(0);
    assert.deepEqual([...secretKey], [1, 2, 3, 4]);
  });

  it('refuses an unknown ReadyForQuery status', () => {
    assert.throws(() => parseReadyForQuery(Buffer.from('X')), /unknown transaction status "X"/);
  });

  it('refuses NegotiateProtocolVersion options without the _pq_. prefix, and absurd counts', () => {
    assert.throws(() => serializeNegotiateProtocolVersion(0, ['search_path']), RangeError);
    const body = Buffer.concat([
      Buffer.from([0, 3, 0, 0, 0, 0, 0, 1]),
      Buffer.from('search_path\0'),
    ]);
    assert.throws(() => parseNegotiateProtocolVersion(body), /not a _pq_\. protocol option/);
    const huge = Buffer.from([0, 3, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
    assert.throws(() => parseNegotiateProtocolVersion(huge), /option count/);
  });
});
