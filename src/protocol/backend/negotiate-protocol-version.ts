// PostgreSQL docs 55.7 "Message Formats": NegotiateProtocolVersion ('v').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { BackendMessageType } from '../message-types.js';
import { PROTOCOL_MAJOR, protocolVersionCode } from '../protocol-version.js';

/** Protocol options in the StartupMessage carry this prefix (55.2.1 "Start-up"). */
const PROTOCOL_OPTION_PREFIX = '_pq_.';

export interface NegotiateProtocolVersion {
  /** The newest minor version of protocol 3 the server supports. */
  readonly newestMinor: number;
  /** The `_pq_.` options of the StartupMessage the server did not recognise. */
  readonly unrecognisedOptions: readonly string[];
}

/**
 * The docs call the Int32 the "newest minor protocol version", but servers
 * send the whole version (3 << 16 | minor) and libpq expects that; so does
 * this codec.
 */
export function serializeNegotiateProtocolVersion(
  newestMinor: number,
  unrecognisedOptions: readonly string[] = [],
): Buffer {
  if (!Number.isInteger(newestMinor) || newestMinor < 0 || newestMinor > 0xffff) {
    throw new RangeError(`protocol minor version must be 0 to 65535, got ${newestMinor}`);
  }
  for (const option of unrecognisedOptions) {
    if (!option.startsWith(PROTOCOL_OPTION_PREFIX)) {
      throw new RangeError(`"${option}" is not a ${PROTOCOL_OPTION_PREFIX} protocol option`);
    }
  }
  return new BufferWriter()
    .message(BackendMessageType.NEGOTIATE_PROTOCOL_VERSION, (w) => {
      w.uint32(protocolVersionCode(PROTOCOL_MAJOR, newestMinor));
      w.int32(unrecognisedOptions.length);
      for (const option of unrecognisedOptions) w.cstring(option);
    })
    .toBuffer();
}

export function parseNegotiateProtocolVersion(body: Buffer): NegotiateProtocolVersion {
  const reader = new BufferReader(body, 'NegotiateProtocolVersion');
  const version = reader.uint32();
  const major = version >>> 16;
  if (major !== PROTOCOL_MAJOR) throw reader.fail(`protocol major version ${major} is not 3`);
  const count = reader.int32();
  // Each option takes at least its prefix and a NUL, so a count this large cannot be honest.
  if (count < 0 || count * (PROTOCOL_OPTION_PREFIX.length + 1) > reader.remaining()) {
    throw reader.fail(`option count ${count} does not fit the ${reader.remaining()} bytes left`);
  }
  const unrecognisedOptions: string[] = [];
  for (let i = 0; i < count; i++) {
    const option = reader.cstring();
    if (!option.startsWith(PROTOCOL_OPTION_PREFIX)) {
      throw reader.fail(`"${option}" is not a ${PROTOCOL_OPTION_PREFIX} protocol option`);
    }
    unrecognisedOptions.push(option);
  }
  reader.end();
  return { newestMinor: version & 0xffff, unrecognisedOptions };
}
