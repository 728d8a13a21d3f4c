// PostgreSQL docs 55.7 "Message Formats": Query ('Q').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { FrontendMessageType } from '../message-types.js';

/** The SQL text of a simple Query. */
export function parseQuery(body: Buffer): string {
  const reader = new BufferReader(body, 'Query');
  const sql = reader.cstring();
  reader.end();
  return sql;
}

export function serializeQuery(sql: string): Buffer {
  return new BufferWriter().message(FrontendMessageType.QUERY, (w) => w.cstring(sql)).toBuffer();
}
