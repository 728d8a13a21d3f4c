// PostgreSQL docs 55.7 "Message Formats": ParameterStatus ('S').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { BackendMessageType } from '../message-types.js';

export interface ParameterStatus {
  readonly name: string;
  readonly value: string;
}

export function parseParameterStatus(body: Buffer): ParameterStatus {
  const reader = new BufferReader(body, 'ParameterStatus');
  const name = reader.cstring();
  const value = reader.cstring();
  reader.end();
  return { name, value };
}

export function serializeParameterStatus(name: string, value: string): Buffer {
  return new BufferWriter()
    .message(BackendMessageType.PARAMETER_STATUS, (w) => w.cstring(name).cstring(value))
    .toBuffer();
}
