/**
 * Protocol versions (PostgreSQL docs 55.1.1 "Protocol Versions"): the version
 * travels as one Int32, major in the high 16 bits and minor in the low 16.
 * 3.0 is PostgreSQL 7.4 and later, 3.2 is PostgreSQL 18 (3.1 was never used).
 */
export const PROTOCOL_MAJOR = 3;
export const LATEST_PROTOCOL_MINOR = 2;

/** The Int32 wire form of a protocol version. */
export function protocolVersionCode(major: number, minor: number): number {
  return major * 0x10000 + minor;
}
