// PostgreSQL docs 55.7 "Message Formats": ReadyForQuery ('Z').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { BackendMessageType } from '../message-types.js';

/** 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block. */
export type TransactionStatus = 'I' | 'T' | 'E';

function readyForQuery(status: TransactionStatus): Buffer {
  return new BufferWriter(6)
    .message(BackendMessageType.READY_FOR_QUERY, (w) => w.uint8(status.charCodeAt(0)))
    .toBuffer();
}

/** The three possible messages, serialised once. */
const READY_FOR_QUERY: Readonly<Record<TransactionStatus, Buffer>> = {
  I: readyForQuery('I'),
  T: readyForQuery('T'),
  E: readyForQuery('E'),
};

function isTransactionStatus(value: string): value is TransactionStatus {
  return value === 'I' || value === 'T' || value === 'E';
}

export function parseReadyForQuery(body: Buffer): TransactionStatus {
  const reader = new BufferReader(body, 'ReadyForQuery');
  const status = String.fromCharCode(reader.uint8());
  reader.end();
  if (!isTransactionStatus(status)) throw reader.fail(`unknown transaction status "${status}"`);
  return status;
}

/** Returns a shared buffer; do not modify. */
export function serializeReadyForQuery(status: TransactionStatus): Buffer {
  return READY_FOR_QUERY[status];
}
