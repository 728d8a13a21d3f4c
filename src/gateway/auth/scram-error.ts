/**
 * Why a SCRAM exchange failed, in the two classes the gateway reports to the
 * client (PostgreSQL docs, Appendix A "PostgreSQL Error Codes"):
 *
 *  - 'malformed': the peer broke the protocol (bad syntax, wrong nonce,
 *    message out of order, unsupported mechanism or extension) -> 08P01
 *    protocol_violation;
 *  - 'rejected': the exchange was well formed but authentication failed
 *    (wrong proof, channel-binding mismatch or downgrade, server signature
 *    mismatch, server error) -> 28P01 invalid_password.
 *
 * Messages are fixed texts meant for the audit log. They never contain
 * proofs, keys, signatures, passwords, or text chosen by the client.
 */
export type ScramErrorKind = 'malformed' | 'rejected';

export const SCRAM_ERROR_SQLSTATE = {
  malformed: '08P01',
  rejected: '28P01',
} as const satisfies Record<ScramErrorKind, string>;

export class ScramError extends Error {
  override readonly name = 'ScramError';
  readonly kind: ScramErrorKind;
  /** The SQLSTATE of the ErrorResponse to send the client. */
  readonly sqlState: (typeof SCRAM_ERROR_SQLSTATE)[ScramErrorKind];

  constructor(kind: ScramErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.sqlState = SCRAM_ERROR_SQLSTATE[kind];
  }
}
