// PostgreSQL docs 55.7 "Message Formats": Terminate ('X'), an empty message.
import { BufferWriter } from '../buffer-writer.js';
import { FrontendMessageType } from '../message-types.js';

/** Serialised once; do not modify. */
export const TERMINATE: Buffer = new BufferWriter(5)
  .message(FrontendMessageType.TERMINATE, () => {})
  .toBuffer();
