import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseAuthentication,
  serializeAuthenticationSasl,
} from '../../../src/protocol/backend/authentication.js';
import {
  parseBackendKeyData,
  serializeBackendKeyData,
} from '../../../src/protocol/backend/backend-key-data.js';
import {
  parseErrorResponse,
  serializeErrorResponse,
} from '../../../src/protocol/backend/error-response.js';
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
import { type Frame, type FramerMode, MessageFramer } from '../../../src/protocol/framer.js';
import { FramingError } from '../../../src/protocol/framing-error.js';
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
import { parseSaslResponse } from '../../../src/protocol/frontend/sasl-response.js';
import {
  GSSENC_REQUEST,
  parseStartupPacket,
  SSL_REQUEST,
  serializeCancelRequest,
  serializeStartupMessage,
} from '../../../src/protocol/frontend/startup-packet.js';
import { MalformedMessageError } from '../../../src/protocol/malformed-message-error.js';
import {
  BackendMessageType as B,
  FrontendMessageType as F,
} from '../../../src/protocol/message-types.js';
import { cut, ownBuffer, TEST_MAX_MESSAGE_LENGTH } from './protocol-test-helpers.js';

const text = fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !s.includes('\0'));

/** Any type byte and any body: valid framing, whatever the content. */
function typedRaw(maxBody: number): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: maxBody }))
    .map(([type, body]) => {
      const raw = Buffer.alloc(5 + body.length);
      raw[0] = type;
      raw.writeUInt32BE(4 + body.length, 1);
      raw.set(body, 5);
      return raw;
    });
}

const realTyped: fc.Arbitrary<Buffer> = fc.oneof(
  text.map(serializeQuery),
  text.map(serializePasswordMessage),
  fc
    .tuple(text, fc.option(fc.uint8Array({ maxLength: 20 })))
    .map(([m, d]) => serializeSaslInitialResponse(m, d)),
  fc
    .record({ statement: text, query: text, parameterTypes: fc.array(fc.nat(), { maxLength: 3 }) })
    .map(serializeParse),
  fc.tuple(text, text).map(([n, v]) => serializeParameterStatus(n, v)),
  fc.constantFrom('I' as const, 'T' as const, 'E' as const).map(serializeReadyForQuery),
  fc.uint8Array({ minLength: 4, maxLength: 32 }).map((key) => serializeBackendKeyData(42, key)),
  fc.constant(serializeAuthenticationSasl(['SCRAM-SHA-256'])),
  fc.constant(serializeNegotiateProtocolVersion(0, ['_pq_.opt'])),
  text.map((message) => serializeErrorResponse({ severity: 'ERROR', code: '42501', message })),
);

const typedMessage = fc.oneof(typedRaw(100), realTyped);

interface Message {
  readonly raw: Buffer;
  readonly typed: boolean;
}

interface Stream {
  readonly mode: FramerMode;
  readonly messages: readonly Message[];
}

const startupMessage = fc
  .dictionary(
    text.filter((s) => s !== ''),
    text,
    { maxKeys: 4 },
  )
  .map((parameters) => serializeStartupMessage({ ...parameters, user: 'alice' }));

const typedStream: fc.Arbitrary<Stream> = fc
  .array(typedMessage, { maxLength: 12 })
  .map((raws) => ({ mode: 'typed', messages: raws.map((raw) => ({ raw, typed: true })) }));

const startupStream: fc.Arbitrary<Stream> = fc
  .tuple(
    fc.constantFrom([], [SSL_REQUEST], [GSSENC_REQUEST], [SSL_REQUEST, GSSENC_REQUEST]),
    startupMessage,
    fc.array(typedMessage, { maxLength: 8 }),
  )
  .map(([requests, startup, typed]) => ({
    mode: 'startup',
    messages: [
      ...[...requests, startup].map((raw) => ({ raw, typed: false })),
      ...typed.map((raw) => ({ raw, typed: true })),
    ],
  }));

const cancelStream: fc.Arbitrary<Stream> = fc
  .uint8Array({ minLength: 4, maxLength: 256 })
  .map((key) => ({
    mode: 'startup',
    messages: [{ raw: serializeCancelRequest(7, key), typed: false }],
  }));

const stream = fc.oneof(typedStream, startupStream, cancelStream);
const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });

function wire(s: Stream): Buffer {
  return Buffer.concat(s.messages.map((m) => m.raw));
}

function expectedFrame(m: Message): Frame {
  const headerSize = m.typed ? 5 : 4;
  return { type: m.typed ? (m.raw[0] ?? -1) : null, body: m.raw.subarray(headerSize), raw: m.raw };
}

function plain(frame: Frame): Frame {
  return { type: frame.type, body: frame.body, raw: frame.raw };
}

/** Pushes every chunk, checking the buffering bound after each. */
function pushAll(framer: MessageFramer, chunks: readonly Buffer[]): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    frames.push(...framer.push(chunk));
    assert.ok(framer.pending() <= 5 + framer.maxMessageLength);
  }
  return frames;
}

describe('MessageFramer properties', () => {
  it('yields the same frames however the stream is cut, down to 1-byte chunks', () => {
    fc.assert(
      fc.property(stream, chunkSizes, (s, sizes) => {
        const expected = s.messages.map(expectedFrame);
        for (const split of [sizes, [1], []]) {
          const framer = new MessageFramer({
            maxMessageLength: TEST_MAX_MESSAGE_LENGTH,
            mode: s.mode,
          });
          const frames = pushAll(framer, cut(wire(s), split));
          assert.deepEqual(frames.map(plain), expected);
          assert.equal(framer.pending(), 0);
        }
      }),
    );
  });

  it('returns views into the chunk, without copying, for messages inside one chunk', () => {
    fc.assert(
      fc.property(stream, (s) => {
        const chunk = ownBuffer(wire(s));
        const framer = new MessageFramer({
          maxMessageLength: TEST_MAX_MESSAGE_LENGTH,
          mode: s.mode,
        });
        const frames = framer.push(chunk);
        assert.equal(frames.length, s.messages.length);
        let offset = 0;
        frames.forEach((frame, i) => {
          const message = s.messages[i];
          assert.ok(message);
          assert.equal(frame.raw.buffer, chunk.buffer);
          assert.equal(frame.raw.byteOffset, chunk.byteOffset + offset);
          assert.equal(frame.raw.length, message.raw.length);
          assert.equal(frame.body.buffer, chunk.buffer);
          assert.equal(frame.body.byteOffset, frame.raw.byteOffset + (message.typed ? 5 : 4));
          offset += message.raw.length;
        });
      }),
    );
  });

  it('copies a message that spans chunks, so reusing the chunks cannot change it', () => {
    fc.assert(
      fc.property(
        stream.filter((s) => s.messages.length > 0),
        fc.nat(),
        fc.nat(),
        (s, pick, within) => {
          const index = pick % s.messages.length;
          const target = s.messages[index];
          assert.ok(target);
          const start = s.messages.slice(0, index).reduce((n, m) => n + m.raw.length, 0);
          const at = start + 1 + (within % (target.raw.length - 1));
          const bytes = wire(s);
          const [first, second] = [ownBuffer(bytes.subarray(0, at)), ownBuffer(bytes.subarray(at))];
          const framer = new MessageFramer({
            maxMessageLength: TEST_MAX_MESSAGE_LENGTH,
            mode: s.mode,
          });
          const frames = framer.push(first);
          first.fill(0xaa); // the caller reuses the chunk before the rest arrives
          frames.push(...framer.push(second));
          second.fill(0xaa);
          const spanning = frames[index];
          assert.ok(spanning);
          assert.notEqual(spanning.raw.buffer, first.buffer);
          assert.notEqual(spanning.raw.buffer, second.buffer);
          assert.deepEqual(spanning.raw, target.raw);
        },
      ),
    );
  });

  it('throws too-large (54000) as soon as an oversized header is complete, without the body', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 256, max: 1 << 20 }),
        fc.constantFrom<FramerMode>('startup', 'typed'),
        fc.array(typedRaw(100), { maxLength: 4 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        chunkSizes,
        (max, mode, before, type, excess, sizes) => {
          const declared = Math.min(max + excess, 0xffffffff);
          const header = Buffer.alloc(mode === 'typed' ? 5 : 4);
          if (mode === 'typed') header[0] = type;
          header.writeUInt32BE(declared, header.length - 4);
          const prefix = mode === 'typed' ? Buffer.concat(before) : Buffer.alloc(0);
          const framer = new MessageFramer({ maxMessageLength: max, mode });
          let sent = 0;
          for (const chunk of cut(Buffer.concat([prefix, header]), sizes)) {
            sent += chunk.length;
            if (sent < prefix.length + header.length) {
              framer.push(chunk);
              continue;
            }
            assert.throws(
              () => framer.push(chunk),
              (error) =>
                error instanceof FramingError &&
                error.kind === 'too-large' &&
                error.sqlState === '54000' &&
                error.declaredLength === declared,
            );
          }
          assert.equal(sent, prefix.length + header.length);
        },
      ),
    );
  });

  it('throws malformed (08P01) for a length below 4, or below 8 for a startup packet', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<FramerMode>('startup', 'typed'),
        fc.nat(7),
        chunkSizes,
        (mode, declared, sizes) => {
          fc.pre(mode === 'startup' || declared < 4);
          const header = Buffer.alloc(mode === 'typed' ? 5 : 4);
          header.writeUInt32BE(declared, header.length - 4);
          const framer = new MessageFramer({ maxMessageLength: 1024, mode });
          const chunks = cut(header, sizes);
          const last = chunks.pop();
          assert.ok(last);
          for (const chunk of chunks) assert.deepEqual(framer.push(chunk), []);
          assert.throws(
            () => framer.push(last),
            (error) =>
              error instanceof FramingError &&
              error.kind === 'malformed' &&
              error.sqlState === '08P01',
          );
        },
      ),
    );
  });

  it('never throws nor yields an incomplete message when the input is truncated', () => {
    fc.assert(
      fc.property(stream, fc.nat(), chunkSizes, (s, cutAt, sizes) => {
        const bytes = wire(s);
        fc.pre(bytes.length > 0);
        const length = cutAt % bytes.length;
        const complete: Message[] = [];
        let end = 0;
        for (const m of s.messages) {
          if (end + m.raw.length > length) break;
          complete.push(m);
          end += m.raw.length;
        }
        const framer = new MessageFramer({
          maxMessageLength: TEST_MAX_MESSAGE_LENGTH,
          mode: s.mode,
        });
        const frames = pushAll(framer, cut(bytes.subarray(0, length), sizes));
        assert.deepEqual(frames.map(plain), complete.map(expectedFrame));
        assert.equal(framer.pending(), length - end);
        if (s.messages.length === 1) assert.equal(frames.length, 0);
      }),
    );
  });
});

type Parser = (body: Buffer) => unknown;

/** Parsers by type byte, both directions (some bytes mean one message each way). */
const PARSERS = new Map<number, Parser[]>([
  [B.AUTHENTICATION, [parseAuthentication]],
  [B.ERROR_RESPONSE, [parseErrorResponse]],
  [B.NOTICE_RESPONSE, [parseErrorResponse]],
  [B.PARAMETER_STATUS, [parseParameterStatus]],
  [B.BACKEND_KEY_DATA, [parseBackendKeyData]],
  [B.READY_FOR_QUERY, [parseReadyForQuery]],
  [B.NEGOTIATE_PROTOCOL_VERSION, [parseNegotiateProtocolVersion]],
  [F.PASSWORD_MESSAGE, [parsePasswordMessage, parseSaslInitialResponse, parseSaslResponse]],
  [F.QUERY, [parseQuery]],
  [F.PARSE, [parseParse]],
]);

/** Valid messages with some bytes overwritten, and lengths that may lie. */
const mutated = fc
  .tuple(
    fc.oneof(realTyped, startupMessage, fc.constant(SSL_REQUEST)),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  )
  .map(([raw, edits]) => {
    const copy = Buffer.from(raw);
    for (const [at, value] of edits) copy[at % copy.length] = value;
    return copy;
  });

const plausible = fc
  .tuple(
    fc.constantFrom(...PARSERS.keys()),
    fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })), { maxLength: 80 }),
    fc.integer({ min: -6, max: 6 }),
  )
  .map(([type, body, lie]) => {
    const raw = Buffer.alloc(5 + body.length);
    raw[0] = type;
    raw.writeUInt32BE(Math.max(0, 4 + body.length + (lie % 3 === 0 ? lie : 0)), 1);
    raw.set(body, 5);
    return raw;
  });

const noise = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      mutated,
      plausible,
    ),
    {
      maxLength: 8,
    },
  )
  .map((parts) => Buffer.concat(parts));

function onlyMalformed(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof MalformedMessageError, `unexpected ${String(error)}`);
  }
}

describe('MessageFramer and parsers on arbitrary bytes', () => {
  it('frame or throw FramingError, and parsers throw only MalformedMessageError', () => {
    fc.assert(
      fc.property(
        noise,
        fc.constantFrom<FramerMode>('startup', 'typed'),
        fc.integer({ min: 8, max: 300 }),
        chunkSizes,
        (bytes, mode, max, sizes) => {
          const framer = new MessageFramer({ maxMessageLength: max, mode });
          for (const chunk of cut(bytes, sizes)) {
            let frames: Frame[];
            try {
              frames = framer.push(chunk);
            } catch (error) {
              assert.ok(error instanceof FramingError, `unexpected ${String(error)}`);
              return;
            }
            assert.ok(framer.pending() <= 5 + max);
            for (const frame of frames) {
              assert.ok(frame.raw.length <= 1 + max);
              if (frame.type === null) {
                onlyMalformed(() => parseStartupPacket(frame.body));
              } else {
                for (const parse of PARSERS.get(frame.type) ?? [])
                  onlyMalformed(() => parse(frame.body));
              }
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
