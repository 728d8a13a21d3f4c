import { readFile, stat } from 'node:fs/promises';

/**
 * A file pgwarden reads and re-reads when it changes (the blocklist, the
 * GeoIP databases). `current()` never waits: at most every `intervalMs` it
 * starts a stat in the background, and re-reads the file when its mtime, size
 * or inode changed (an update in place or a rename over it). A file that
 * cannot be read or parsed keeps the last good value and is reported once
 * per distinct problem, not on every check.
 */
export class PolledFile<T> {
  private value: T | undefined;
  private stamp: string | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking: Promise<void> | undefined;
  private lastProblem: string | undefined;

  constructor(
    readonly path: string,
    /** Turns the file's bytes into the value; throws when they are not valid. */
    private readonly parse: (content: Buffer) => T,
    private readonly onWarning: (message: string) => void,
    private readonly intervalMs = 5000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The value from the last good read, or undefined; starts a check when one is due. */
  current(): T | undefined {
    const now = this.clock();
    if (this.checking === undefined && now - this.checkedAt >= this.intervalMs) {
      this.checkedAt = now;
      this.checking = this.refresh().finally(() => {
        this.checking = undefined;
      });
    }
    return this.value;
  }

  /** Reads the file now if it changed since the last read; resolves when done. Never throws. */
  async refresh(): Promise<void> {
    this.checkedAt = this.clock();
    let stamp: string;
    try {
      const info = await stat(this.path);
      stamp = `${info.mtimeMs}:${info.size}:${info.ino}`;
    } catch (error) {
      this.problem(error);
      return;
    }
    if (stamp === this.stamp) return;
    try {
      const content = await readFile(this.path);
      this.value = this.parse(content);
      this.stamp = stamp;
      this.lastProblem = undefined;
    } catch (error) {
      // The stamp stays as it was: a half-written file is read again at the next check.
      this.problem(error);
    }
  }

  private problem(error: unknown): void {
    const message = `${this.path}: ${error instanceof Error ? error.message : String(error)}`;
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.onWarning(
      this.value === undefined ? message : `${message} (the last good version stays in use)`,
    );
  }
}
