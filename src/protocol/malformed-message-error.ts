import { SQLSTATE, type SqlState } from './sqlstate.js';

export interface MalformedMessageErrorOptions {
  /** The SQLSTATE to refuse with; 08P01 (protocol violation) unless a closer one exists. */
  readonly sqlState?: SqlState;
  readonly cause?: unknown;
}

/**
 * A message whose frame was fine but whose body does not follow the layout of
 * its type: a read past the end, a string without its NUL, a count that does
 * not match, trailing bytes. The message names the message type and the fault.
 */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
  readonly sqlState: SqlState;

  constructor(message: string, options: MalformedMessageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.sqlState = options.sqlState ?? SQLSTATE.PROTOCOL_VIOLATION;
  }
}
