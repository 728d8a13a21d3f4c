/** The gateway's per-address block list (the login throttle's), as response actions use it. */
export interface SourceBlocker {
  /** Refuses new connections from `address` for `seconds`; false (nothing done) for an exempt address. */
  block(address: string, seconds: number, reason: string): boolean;
  /** In detection.throttle.exemptRanges: never acted on. */
  isExempt(address: string): boolean;
}
