import type { Queryable } from '../../control/gateway-settings/gateway-settings.js';
import {
  combinePending,
  type PendingAlert,
  pendingAlert,
  upsertAlert,
} from '../alert-store-upsert.js';
import type { AlertSink, RaisedAlert } from '../raised-alert.js';
import type { AlertOccurrence } from './alert-occurrence.js';

export interface AlertStoreSinkOptions {
  readonly onWarning: (message: string) => void;
  /** Told of every write (and, once, of raises the store could not write yet). Must not throw. */
  readonly onStored?: ((occurrence: AlertOccurrence) => void) | undefined;
  /** Distinct alerts waiting to be written; raises of further ones are dropped and counted. */
  readonly maxPending?: number;
  readonly flushIntervalMs?: number;
  /** First wait after a failed write; doubles up to maxRetryMs. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** How long close() waits for its last write (a hung database must not hang shutdown). */
  readonly closeTimeoutMs?: number;
}

interface Entry {
  pending: PendingAlert;
  /** onStored was told of these raises while the database could not take them. */
  announced: boolean;
}

/**
 * Writes raised alerts to pgwarden.alerts, off the session's path: deliver()
 * only queues. Raises of the same type and key waiting together become one
 * write (a flood of repeats is a few statements, not one per raise). Writes
 * run one at a time, so the store never takes more than one connection of
 * the pool it shares with logins. A failing database is reported once and
 * retried with backoff until it recovers; while it fails, repeats still fold
 * into the waiting alerts, and new alerts beyond maxPending are dropped and
 * counted. deliver() never throws.
 */
export class AlertStoreSink implements AlertSink {
  readonly name = 'store';
  private pending = new Map<string, Entry>();
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failing = false;
  private retryWaitMs = 0;
  /** Alerts dropped since the last report of drops (first drop, recovery, close). */
  private dropped = 0;
  private dropReported = false;
  private readonly maxPending: number;
  private readonly flushIntervalMs: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly db: Queryable,
    private readonly options: AlertStoreSinkOptions,
  ) {
    this.maxPending = options.maxPending ?? 1000;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.retryMs = options.retryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
  }

  deliver(alert: RaisedAlert): void {
    if (this.closed) return;
    const id = entryId(alert);
    const waiting = this.pending.get(id);
    if (waiting !== undefined) {
      waiting.pending = combinePending(waiting.pending, pendingAlert(alert));
    } else if (this.pending.size >= this.maxPending) {
      this.dropped++;
      if (!this.dropReported) {
        this.dropReported = true;
        this.warn(`dropping new alerts: ${this.maxPending} alerts wait to be written`);
      }
      return;
    } else {
      this.pending.set(id, { pending: pendingAlert(alert), announced: false });
    }
    this.schedule(this.failing ? this.retryWaitMs : this.flushIntervalMs);
  }

  /** Writes what is waiting now; resolves when the write is done (or failed). For shutdown and tests. */
  async flush(): Promise<void> {
    await this.writing;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) await this.write();
  }

  /** One last write, bounded by closeTimeoutMs; what is not written by then is dropped and counted. */
  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 5000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (this.pending.size > 0) {
      this.dropped += this.pending.size;
      this.pending.clear();
    }
    if (this.dropped > 0) this.warn(`${this.dropped} alert(s) were dropped without being stored`);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.writing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, delayMs);
    this.timer.unref();
  }

  private write(): Promise<void> {
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
      if (this.pending.size > 0 && !this.closed)
        this.schedule(this.failing ? this.retryWaitMs : this.flushIntervalMs);
    });
    return this.writing;
  }

  private async writeAll(): Promise<void> {
    const batch = [...this.pending.entries()];
    this.pending.clear();
    for (const [index, [, entry]] of batch.entries()) {
      let result: Awaited<ReturnType<typeof upsertAlert>>;
      try {
        result = await upsertAlert(this.db, entry.pending);
      } catch (error) {
        if (isPermanent(error)) {
          this.dropped++;
          this.warn(`alert ${entry.pending.alert.type} not stored: ${message(error)}`);
          continue;
        }
        this.requeue(batch.slice(index));
        this.failed(error);
        return;
      }
      this.recovered();
      const { alert, opened } = result;
      this.notify({
        alert: entry.pending.alert,
        id: alert.id,
        status: alert.status,
        opened,
        count: alert.count,
        firstSeen: alert.firstSeen,
        lastSeen: alert.lastSeen,
        evidence: alert.evidence,
      });
    }
  }

  /** Puts unwritten entries back in front of raises that came meanwhile; tells onStored of them once. */
  private requeue(entries: readonly [string, Entry][]): void {
    const newer = this.pending;
    this.pending = new Map(entries);
    for (const [id, entry] of newer) {
      const older = this.pending.get(id);
      if (older === undefined) this.pending.set(id, entry);
      else older.pending = combinePending(older.pending, entry.pending);
    }
    for (const entry of this.pending.values()) {
      if (entry.announced) continue;
      entry.announced = true;
      const { pending } = entry;
      this.notify({
        alert: pending.alert,
        id: undefined,
        status: undefined,
        opened: false,
        count: pending.times,
        firstSeen: pending.firstSeen,
        lastSeen: pending.lastSeen,
        evidence: pending.evidence,
      });
    }
  }

  private failed(error: unknown): void {
    this.retryWaitMs = Math.min(
      this.maxRetryMs,
      this.retryWaitMs === 0 ? this.retryMs : this.retryWaitMs * 2,
    );
    if (this.failing) return;
    this.failing = true;
    this.warn(`cannot write alerts to the state database (${message(error)}); retrying`);
  }

  private recovered(): void {
    this.retryWaitMs = 0;
    if (!this.failing) return;
    this.failing = false;
    const lost = this.dropped === 0 ? '' : `; ${this.dropped} alert(s) were dropped meanwhile`;
    this.warn(`writing alerts to the state database again${lost}`);
    this.dropped = 0;
    this.dropReported = false;
  }

  private notify(occurrence: AlertOccurrence): void {
    try {
      this.options.onStored?.(occurrence);
    } catch (error) {
      this.warn(`alert notification failed: ${message(error)}`);
    }
  }

  private warn(text: string): void {
    try {
      this.options.onWarning(`alert store: ${text}`);
    } catch {
      // a warning must not break the store
    }
  }
}

function entryId(alert: RaisedAlert): string {
  return `${alert.type}\0${alert.key}`;
}

/** Data (22) and integrity (23) errors fail again however often they are retried. */
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
