/** A record as the auditor hands it to the optional sinks (the file log has its own, chained form). */
export type SinkRecord = Readonly<Record<string, unknown>> & {
  readonly time: string;
  readonly code: number;
  readonly event: string;
};

export interface AuditSink {
  readonly name: string;
  /** Never blocks and never throws: a slow or dead sink drops records and counts them. */
  send(record: SinkRecord): void;
  stats(): { readonly delivered: number; readonly dropped: number; readonly queued: number };
  close(): Promise<void>;
}

export interface QueuedSinkOptions {
  readonly maxQueue?: number;
  readonly batchSize?: number;
  readonly flushIntervalMs?: number;
  readonly onError?: (error: Error) => void;
}

/**
 * The common shape of the optional sinks: a bounded in-memory queue drained
 * by one background loop, so the relay never waits for a network peer. When
 * the queue is full, new records are dropped and counted (the chained file
 * log still has them); failed batches are retried with backoff.
 */
export abstract class QueuedSink implements AuditSink {
  abstract readonly name: string;
  private queue: SinkRecord[] = [];
  private delivered = 0;
  private dropped = 0;
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;

  protected constructor(private readonly options: QueuedSinkOptions) {
    this.maxQueue = options.maxQueue ?? 10_000;
    this.batchSize = options.batchSize ?? 200;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
  }

  /** Delivers one batch; rejects to have it retried. */
  protected abstract deliver(batch: readonly SinkRecord[]): Promise<void>;

  send(record: SinkRecord): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(record);
    if (this.timer === undefined && !this.running) {
      this.timer = setTimeout(() => void this.drain(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  stats(): { delivered: number; dropped: number; queued: number } {
    return { delivered: this.delivered, dropped: this.dropped, queued: this.queue.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // One last attempt, bounded by the sink's own timeout; whatever fails is dropped.
    if (!this.running && this.queue.length > 0) await this.drain(true);
  }

  private async drain(final = false): Promise<void> {
    this.timer = undefined;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.batchSize);
        try {
          await this.deliver(batch);
          this.queue.splice(0, batch.length);
          this.delivered += batch.length;
          this.backoffMs = 0;
        } catch (error) {
          this.options.onError?.(new Error(`${this.name}: ${(error as Error).message}`));
          if (final) {
            this.dropped += this.queue.length;
            this.queue = [];
            return;
          }
          this.backoffMs = Math.min(30_000, this.backoffMs === 0 ? 500 : this.backoffMs * 2);
          if (!this.closed) {
            this.timer = setTimeout(() => void this.drain(), this.backoffMs);
            this.timer.unref();
          }
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
