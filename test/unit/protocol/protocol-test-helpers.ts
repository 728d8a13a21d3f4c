import assert from 'node:assert/strict';
import { type Frame, type FramerMode, MessageFramer } from '../../../src/protocol/framer.js';

export const TEST_MAX_MESSAGE_LENGTH = 1 << 16;

/** Frames `wire` and asserts it holds exactly one whole message. */
export function frameOne(wire: Buffer, mode: FramerMode = 'typed'): Frame {
  const framer = new MessageFramer({ maxMessageLength: TEST_MAX_MESSAGE_LENGTH, mode });
  const frames = framer.push(wire);
  assert.equal(frames.length, 1, 'exactly one frame');
  assert.equal(framer.pending(), 0, 'nothing left over');
  const [frame] = frames;
  assert.ok(frame);
  return frame;
}

/** A copy in its own ArrayBuffer (never Node's shared pool), so `.buffer` identifies it. */
export function ownBuffer(bytes: Uint8Array): Buffer {
  const copy = Buffer.alloc(bytes.length);
  copy.set(bytes);
  return copy;
}

/** Cuts `bytes` into chunks of the given sizes (cycled), each in its own ArrayBuffer. */
export function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes.length === 0 ? bytes.length : (sizes[i % sizes.length] ?? 1));
    chunks.push(ownBuffer(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return chunks;
}
