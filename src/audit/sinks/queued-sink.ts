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

/** The receiver refused the batch for good (an HTTP 4xx, say): it is dropped, never retried. */
export class SinkRejectedError extends Error {}

/** A transient failure the receiver asked to be retried, after `retryAfterMs` when it said so. */
export class SinkRetryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const MAX_BACKOFF_MS = 30_000;
/** The longest Retry-After honoured; a receiver asking for more is retried sooner. */
const MAX_RETRY_AFTER_MS = 300_000;

/**
 * The common shape of the optional sinks: a bounded in-memory queue drained
 * by one background loop, so the relay never waits for a network peer. When
 * the queue is full, new records are dropped and counted (the chained file
 * log still has them), and the first drop of each overflow is reported.
 * Batches that fail transiently are retried with backoff; batches the
 * receiver rejects for good are dropped so they cannot block the queue.
 */
export abstract class QueuedSink implements AuditSink {
  abstract readonly name: string;
  private queue: SinkRecord[] = [];
  private delivered = 0;
  private dropped = 0;
  private overflowing = false;
  private closed = false;
  private draining: Promise<void> | undefined;
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

  /**
   * Delivers one batch. Rejects with SinkRejectedError to have it dropped,
   * with anything else to have it retried.
   */
  protected abstract deliver(batch: readonly SinkRecord[]): Promise<void>;

  send(record: SinkRecord): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      if (!this.overflowing) {
        this.overflowing = true;
        this.report(`queue full (${this.maxQueue} records), dropping records`);
      }
      return;
    }
    this.queue.push(record);
    if (this.timer === undefined && this.draining === undefined) {
      this.timer = setTimeout(() => void this.drain(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  stats(): { delivered: number; dropped: number; queued: number } {
    return { delivered: this.delivered, dropped: this.dropped, queued: this.queue.length };
  }

  /**
   * One last attempt, bounded by the sink's own timeout: waits for a delivery
   * in flight, or delivers what is queued; whatever fails is dropped.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.draining !== undefined) await this.draining;
    else if (this.queue.length > 0) await this.drain();
  }

  /** Reports through onError, which must not break the sink (nor the caller of send) by throwing. */
  protected report(message: string): void {
    try {
      this.options.onError?.(new Error(`${this.name}: ${message}`));
    } catch {
      // the sink keeps going
    }
  }

  private drain(): Promise<void> {
    this.timer = undefined;
    this.draining ??= this.run().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.deliver(batch);
        this.queue.splice(0, batch.length);
        this.delivered += batch.length;
        this.backoffMs = 0;
        this.overflowing = false;
      } catch (error) {
        this.report((error as Error).message);
        if (error instanceof SinkRejectedError) {
          this.queue.splice(0, batch.length);
          this.dropped += batch.length;
          continue;
        }
        if (this.closed) {
          this.dropped += this.queue.length;
          this.queue = [];
          return;
        }
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? 500 : this.backoffMs * 2);
        const retryAfterMs = error instanceof SinkRetryError ? error.retryAfterMs : undefined;
        const delay =
          retryAfterMs === undefined ? this.backoffMs : Math.min(MAX_RETRY_AFTER_MS, retryAfterMs);
        this.timer = setTimeout(() => void this.drain(), delay);
        this.timer.unref();
        return;
      }
    }
  }
}
