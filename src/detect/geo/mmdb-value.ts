/**
 * A value of a MaxMind DB data section, as decoded: uint64 and uint128 stay
 * bigint so nothing is rounded; maps are objects without a prototype, so a
 * key like `__proto__` in a file is just a key.
 */
export type MmdbValue =
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | readonly MmdbValue[]
  | MmdbMap;

export interface MmdbMap {
  readonly [key: string]: MmdbValue;
}

export function isMmdbMap(value: MmdbValue | undefined): value is MmdbMap {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
  );
}

/** `record.a.b.c` when every step is a map, else undefined. */
export function mmdbPath(value: MmdbValue | undefined, ...keys: string[]): MmdbValue | undefined {
  let current = value;
  for (const key of keys) {
    if (!isMmdbMap(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
