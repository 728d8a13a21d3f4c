/**
 * Bounds of the cancel secret key in BackendKeyData and CancelRequest
 * (PostgreSQL docs 55.7): exactly 4 bytes in protocol 3.0, 4 to 256 in 3.2.
 */
export const SECRET_KEY_LENGTH = { MIN: 4, MAX: 256 } as const;
