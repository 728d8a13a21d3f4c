/**
 * What a detector already raised in each live session, so one session
 * repeating a shape (a retried query, a multi-statement message seen once
 * per statement) raises it once; the alert store counts the sessions.
 * Forgotten when the session ends; bounded if session ends go missing.
 */
export class SessionOnce {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly maxSessions = 10_000) {}

  /** True the first time `key` comes up in `session`. */
  first(session: string, key: string): boolean {
    let keys = this.seen.get(session);
    if (keys === undefined) {
      if (this.seen.size >= this.maxSessions) {
        const oldest = this.seen.keys().next();
        if (oldest.done !== true) this.seen.delete(oldest.value);
      }
      keys = new Set();
      this.seen.set(session, keys);
    }
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  }

  ended(session: string): void {
    this.seen.delete(session);
  }
}
