// PostgreSQL docs 55.7 "Message Formats": StartupMessage, SSLRequest, GSSENCRequest, CancelRequest.
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { StartupRequestCode } from '../message-types.js';
import { LATEST_PROTOCOL_MINOR, PROTOCOL_MAJOR, protocolVersionCode } from '../protocol-version.js';
import { SECRET_KEY_LENGTH } from '../secret-key-length.js';
import { SQLSTATE } from '../sqlstate.js';

export interface StartupMessage {
  readonly kind: 'startup';
  readonly major: 3;
  /** Any minor is accepted here; negotiating it down is the session's job. */
  readonly minor: number;
  /** Name/value pairs in wire order, `user` always present; `_pq_.` names are protocol options. */
  readonly parameters: Map<string, string>;
}

export interface SslRequest {
  readonly kind: 'ssl-request';
}

export interface GssEncRequest {
  readonly kind: 'gssenc-request';
}

export interface CancelRequest {
  readonly kind: 'cancel-request';
  readonly processId: number;
  /** A copy (4 to 256 bytes), safe to keep after the frame is gone. */
  readonly secretKey: Buffer;
}

export type StartupPacket = StartupMessage | SslRequest | GssEncRequest | CancelRequest;

/** Parses the body of an untyped startup packet (everything after its Int32 length). */
export function parseStartupPacket(body: Buffer): StartupPacket {
  const reader = new BufferReader(body, 'startup packet');
  const code = reader.uint32();
  switch (code) {
    case StartupRequestCode.SSL_REQUEST:
      reader.end();
      return { kind: 'ssl-request' };
    case StartupRequestCode.GSSENC_REQUEST:
      reader.end();
      return { kind: 'gssenc-request' };
    case StartupRequestCode.CANCEL_REQUEST:
      return parseCancelRequest(reader);
    default:
      return parseStartupMessage(reader, code);
  }
}

function parseCancelRequest(reader: BufferReader): CancelRequest {
  const processId = reader.int32();
  const keyLength = reader.remaining();
  if (keyLength < SECRET_KEY_LENGTH.MIN || keyLength > SECRET_KEY_LENGTH.MAX) {
    throw reader.fail(
      `CancelRequest secret key of ${keyLength} bytes; it must be ${SECRET_KEY_LENGTH.MIN} to ${SECRET_KEY_LENGTH.MAX}`,
    );
  }
  return { kind: 'cancel-request', processId, secretKey: Buffer.from(reader.rest()) };
}

function parseStartupMessage(reader: BufferReader, version: number): StartupMessage {
  const major = version >>> 16;
  const minor = version & 0xffff;
  if (major !== PROTOCOL_MAJOR) {
    throw reader.fail(
      `unsupported frontend protocol ${major}.${minor}: the gateway supports ${PROTOCOL_MAJOR}.0 to ${PROTOCOL_MAJOR}.${LATEST_PROTOCOL_MINOR}`,
      { sqlState: SQLSTATE.FEATURE_NOT_SUPPORTED },
    );
  }
  const parameters = new Map<string, string>();
  for (;;) {
    if (reader.remaining() === 0)
      throw reader.fail('the parameter list has no terminating zero byte');
    const name = reader.cstring();
    if (name === '') break;
    if (parameters.has(name)) throw reader.fail(`parameter "${name}" is given twice`);
    parameters.set(name, reader.cstring());
  }
  reader.end();
  if (!parameters.get('user')) {
    throw reader.fail('no user name given in the StartupMessage', {
      sqlState: SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
    });
  }
  return { kind: 'startup', major: PROTOCOL_MAJOR, minor, parameters };
}

/** A StartupMessage for protocol 3.`minor`; names must be non-empty. */
export function serializeStartupMessage(
  parameters: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  minor = 0,
): Buffer {
  if (!Number.isInteger(minor) || minor < 0 || minor > 0xffff) {
    throw new RangeError(`protocol minor version must be 0 to 65535, got ${minor}`);
  }
  const entries = parameters instanceof Map ? [...parameters] : Object.entries(parameters);
  return new BufferWriter()
    .message(null, (w) => {
      w.uint32(protocolVersionCode(PROTOCOL_MAJOR, minor));
      for (const [name, value] of entries) {
        if (name === '') throw new RangeError('a startup parameter name cannot be empty');
        w.cstring(name).cstring(value);
      }
      w.uint8(0);
    })
    .toBuffer();
}

export function serializeCancelRequest(processId: number, secretKey: Uint8Array): Buffer {
  if (secretKey.length < SECRET_KEY_LENGTH.MIN || secretKey.length > SECRET_KEY_LENGTH.MAX) {
    throw new RangeError(
      `secret key must be ${SECRET_KEY_LENGTH.MIN} to ${SECRET_KEY_LENGTH.MAX} bytes, got ${secretKey.length}`,
    );
  }
  return new BufferWriter()
    .message(null, (w) =>
      w.uint32(StartupRequestCode.CANCEL_REQUEST).int32(processId).bytes(secretKey),
    )
    .toBuffer();
}

function request(code: number): Buffer {
  return new BufferWriter(8).message(null, (w) => w.uint32(code)).toBuffer();
}

/** Serialised once; do not modify. */
export const SSL_REQUEST: Buffer = request(StartupRequestCode.SSL_REQUEST);
/** Serialised once; do not modify. */
export const GSSENC_REQUEST: Buffer = request(StartupRequestCode.GSSENC_REQUEST);
