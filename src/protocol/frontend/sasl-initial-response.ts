// PostgreSQL docs 55.7 "Message Formats": SASLInitialResponse ('p').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { FrontendMessageType } from '../message-types.js';

export interface SaslInitialResponse {
  readonly mechanism: string;
  /** The client-first-message; null when the client sent none (length -1). A view into the body. */
  readonly data: Buffer | null;
}

export function parseSaslInitialResponse(body: Buffer): SaslInitialResponse {
  const reader = new BufferReader(body, 'SASLInitialResponse');
  const mechanism = reader.cstring();
  const length = reader.int32();
  if (length < -1) throw reader.fail(`invalid data length ${length}`);
  const data = length === -1 ? null : reader.bytes(length);
  reader.end();
  return { mechanism, data };
}

export function serializeSaslInitialResponse(mechanism: string, data: Uint8Array | null): Buffer {
  return new BufferWriter()
    .message(FrontendMessageType.PASSWORD_MESSAGE, (w) => {
      w.cstring(mechanism);
      if (data === null) w.int32(-1);
      else w.int32(data.length).bytes(data);
    })
    .toBuffer();
}
