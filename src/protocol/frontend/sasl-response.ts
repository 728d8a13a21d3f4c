// PostgreSQL docs 55.7 "Message Formats": SASLResponse ('p'); the body is the SASL data.
import { BufferWriter } from '../buffer-writer.js';
import { FrontendMessageType } from '../message-types.js';

/** The SASL mechanism's data: the body itself, not a copy. */
export function parseSaslResponse(body: Buffer): Buffer {
  return body;
}

export function serializeSaslResponse(data: Uint8Array): Buffer {
  return new BufferWriter(data.length + 5)
    .message(FrontendMessageType.PASSWORD_MESSAGE, (w) => w.bytes(data))
    .toBuffer();
}
