/** When a value was first and last seen for a subject, in ms since the epoch. */
export interface BaselineEntry {
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/**
 * One kind of baseline in memory: for each subject (a role or principal),
 * the values it was seen with (networks, countries, …). Bounded: past
 * `maxEntries` the subject used least recently is forgotten first, and a
 * subject keeps at most `maxPerSubject` values (a client behind rotating
 * cloud addresses cannot grow it without end). Maps keep insertion order, so
 * moving a touched item to the end makes the first item the least recent.
 */
export class BaselineMemory {
  private readonly subjects = new Map<string, Map<string, BaselineEntry>>();
  private count = 0;
  /** When the history starts: the oldest first sighting held (learning is measured from it). */
  startedAt: number | undefined;

  constructor(
    readonly maxEntries = 100_000,
    readonly maxPerSubject = 1000,
  ) {}

  get size(): number {
    return this.count;
  }

  get(subject: string, value: string): BaselineEntry | undefined {
    return this.subjects.get(subject)?.get(value);
  }

  /** The subject's values seen at or after `since`, most recent first, at most `limit`. */
  recent(subject: string, since: number, limit: number): string[] {
    const values = this.subjects.get(subject);
    if (values === undefined) return [];
    return [...values]
      .filter(([, entry]) => entry.lastSeen >= since)
      .sort((a, b) => b[1].lastSeen - a[1].lastSeen)
      .slice(0, limit)
      .map(([value]) => value);
  }

  /** Records a sighting (or a span of them): first and last seen widen, never shrink. */
  record(subject: string, value: string, firstSeen: number, lastSeen: number): void {
    let values = this.subjects.get(subject);
    if (values === undefined) values = new Map();
    else this.subjects.delete(subject);
    this.subjects.set(subject, values);
    const old = values.get(value);
    if (old === undefined) this.count++;
    else values.delete(value);
    values.set(value, {
      firstSeen: Math.min(firstSeen, old?.firstSeen ?? firstSeen),
      lastSeen: Math.max(lastSeen, old?.lastSeen ?? lastSeen),
    });
    if (this.startedAt === undefined || firstSeen < this.startedAt) this.startedAt = firstSeen;
    if (values.size > this.maxPerSubject) this.forgetFirst(values);
    while (this.count > this.maxEntries) {
      const [oldest, oldestValues] = this.subjects.entries().next().value as [
        string,
        Map<string, BaselineEntry>,
      ];
      this.forgetFirst(oldestValues);
      if (oldestValues.size === 0) this.subjects.delete(oldest);
    }
  }

  /** Every entry, least recently touched first (for writing a seeded baseline out). */
  *entries(): Generator<{ subject: string; value: string; entry: BaselineEntry }> {
    for (const [subject, values] of this.subjects) {
      for (const [value, entry] of values) yield { subject, value, entry };
    }
  }

  private forgetFirst(values: Map<string, BaselineEntry>): void {
    const first = values.keys().next();
    if (first.done === true) return;
    values.delete(first.value);
    this.count--;
  }
}
