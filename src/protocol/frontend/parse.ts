// PostgreSQL docs 55.7 "Message Formats": Parse ('P').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { FrontendMessageType } from '../message-types.js';

const MAX_PARAMETER_TYPES = 0xffff;

export interface Parse {
  /** The prepared statement's name; '' is the unnamed statement. */
  readonly statement: string;
  readonly query: string;
  /** Parameter type OIDs; 0 leaves the type unspecified. */
  readonly parameterTypes: readonly number[];
}

export function parseParse(body: Buffer): Parse {
  const reader = new BufferReader(body, 'Parse');
  const statement = reader.cstring();
  const query = reader.cstring();
  const count = reader.uint16();
  if (count * 4 !== reader.remaining()) {
    throw reader.fail(`${count} parameter types declared, but ${reader.remaining()} bytes follow`);
  }
  const parameterTypes: number[] = [];
  for (let i = 0; i < count; i++) parameterTypes.push(reader.uint32());
  reader.end();
  return { statement, query, parameterTypes };
}

export function serializeParse(message: Parse): Buffer {
  const { parameterTypes } = message;
  if (parameterTypes.length > MAX_PARAMETER_TYPES) {
    throw new RangeError(
      `at most ${MAX_PARAMETER_TYPES} parameter types, got ${parameterTypes.length}`,
    );
  }
  return new BufferWriter()
    .message(FrontendMessageType.PARSE, (w) => {
      w.cstring(message.statement).cstring(message.query).uint16(parameterTypes.length);
      for (const oid of parameterTypes) w.uint32(oid);
    })
    .toBuffer();
}
