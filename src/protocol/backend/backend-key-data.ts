// PostgreSQL docs 55.7 "Message Formats": BackendKeyData ('K').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { BackendMessageType } from '../message-types.js';
import { SECRET_KEY_LENGTH } from '../secret-key-length.js';

export interface BackendKeyData {
  readonly processId: number;
  /** A copy (4 to 256 bytes; exactly 4 in protocol 3.0), safe to keep after the frame is gone. */
  readonly secretKey: Buffer;
}

export function parseBackendKeyData(body: Buffer): BackendKeyData {
  const reader = new BufferReader(body, 'BackendKeyData');
  const processId = reader.int32();
  const keyLength = reader.remaining();
  if (keyLength < SECRET_KEY_LENGTH.MIN || keyLength > SECRET_KEY_LENGTH.MAX) {
    throw reader.fail(
      `secret key of ${keyLength} bytes; it must be ${SECRET_KEY_LENGTH.MIN} to ${SECRET_KEY_LENGTH.MAX}`,
    );
  }
  return { processId, secretKey: Buffer.from(reader.rest()) };
}

export function serializeBackendKeyData(processId: number, secretKey: Uint8Array): Buffer {
  if (secretKey.length < SECRET_KEY_LENGTH.MIN || secretKey.length > SECRET_KEY_LENGTH.MAX) {
    throw new RangeError(
      `secret key must be ${SECRET_KEY_LENGTH.MIN} to ${SECRET_KEY_LENGTH.MAX} bytes, got ${secretKey.length}`,
    );
  }
  return new BufferWriter()
    .message(BackendMessageType.BACKEND_KEY_DATA, (w) => w.int32(processId).bytes(secretKey))
    .toBuffer();
}
