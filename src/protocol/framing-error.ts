import { SQLSTATE, type SqlState } from './sqlstate.js';

/** `too-large`: the declared length exceeds the limit; `malformed`: it is too small to be valid. */
export type FramingErrorKind = 'too-large' | 'malformed';

/**
 * The byte stream cannot be cut into messages. Raised as soon as a message
 * header is complete, before its body is buffered; the connection cannot be
 * resynchronised afterwards and must be closed.
 */
export class FramingError extends Error {
  override readonly name = 'FramingError';
  readonly kind: FramingErrorKind;
  /** The length field as read from the wire (unsigned). */
  readonly declaredLength: number;

  constructor(kind: FramingErrorKind, message: string, declaredLength: number) {
    super(message);
    this.kind = kind;
    this.declaredLength = declaredLength;
  }

  /** 54000 (program limit exceeded) for an oversized message, 08P01 otherwise. */
  get sqlState(): SqlState {
    return this.kind === 'too-large'
      ? SQLSTATE.PROGRAM_LIMIT_EXCEEDED
      : SQLSTATE.PROTOCOL_VIOLATION;
  }
}
