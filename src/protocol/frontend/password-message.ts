// PostgreSQL docs 55.7 "Message Formats": PasswordMessage ('p').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { FrontendMessageType } from '../message-types.js';

export function parsePasswordMessage(body: Buffer): string {
  const reader = new BufferReader(body, 'PasswordMessage');
  const password = reader.cstring();
  reader.end();
  return password;
}

export function serializePasswordMessage(password: string): Buffer {
  return new BufferWriter()
    .message(FrontendMessageType.PASSWORD_MESSAGE, (w) => w.cstring(password))
    .toBuffer();
}
