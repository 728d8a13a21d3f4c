import { randomUUID } from 'node:crypto';
import { SEVERITIES } from '../alert-catalog.js';
import type { AlertSink, RaisedAlert } from '../raised-alert.js';
import {
  alertNotice,
  type NoticeReason,
  noticeReason,
  type TrackedNotice,
} from './alert-notice.js';
import type { AlertOccurrence } from './alert-occurrence.js';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  webhookSignature,
} from './webhook-signature.js';
import type { WebhookTarget } from './webhook-target.js';

export interface WebhookAlertSinkOptions {
  readonly onWarning: (message: string) => void;
  /**
   * `store`: notices come from the alert store (notify), carrying the
   * stored id and count; deliver() then does nothing. `engine`: there is no
   * state database, deliver() counts raises itself.
   */
  readonly source: 'store' | 'engine';
  /** A seen-again alert is delivered at most this often. */
  readonly repeatIntervalMs?: number;
  readonly timeoutMs?: number;
  /** Attempts per delivery, the first included. */
  readonly maxAttempts?: number;
  /** Wait before the second attempt; doubles each time, up to maxBackoffMs. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Deliveries waiting per webhook; more are dropped and counted. */
  readonly maxQueue?: number;
  /** How long close() lets waiting deliveries go out (one attempt each). */
  readonly closeGraceMs?: number;
  readonly clock?: () => number;
}

interface Delivery {
  readonly id: string;
  readonly body: string;
  attempts: number;
}

interface TargetState {
  readonly target: WebhookTarget;
  readonly queue: Delivery[];
  running: Promise<void> | undefined;
  /** A retry or a drop was reported since the last success: reported once per outage. */
  failing: boolean;
  droppedReported: boolean;
  dropped: number;
}

type Outcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly message: string; readonly retryAfterMs?: number | undefined }
  | { readonly kind: 'rejected'; readonly message: string };

/** Alerts tracked for repeat throttling; the oldest are forgotten beyond this. */
const MAX_TRACKED = 10_000;

/**
 * Delivers alerts to the `detection.webhooks` endpoints as signed JSON
 * (webhook-signature.ts): when an alert is opened, and when it is seen again
 * at most once per repeatIntervalMs. Each endpoint has its own bounded queue
 * and one delivery in flight; 408, 429, 5xx and network errors are retried
 * with backoff (Retry-After honoured, capped), other answers are final. It
 * never waits on the caller's path, never throws, and never logs a key or
 * a URL's user info or query.
 */
export class WebhookAlertSink implements AlertSink {
  readonly name = 'webhooks';
  private readonly targets: TargetState[];
  private readonly tracked = new Map<string, TrackedNotice>();
  private readonly waits = new Set<() => void>();
  private closing = false;
  private readonly repeatIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxQueue: number;
  private readonly closeGraceMs: number;
  private readonly clock: () => number;

  constructor(
    targets: readonly WebhookTarget[],
    private readonly options: WebhookAlertSinkOptions,
  ) {
    this.targets = targets.map((target) => ({
      target,
      queue: [],
      running: undefined,
      failing: false,
      droppedReported: false,
      dropped: 0,
    }));
    this.repeatIntervalMs = options.repeatIntervalMs ?? 300_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.maxQueue = options.maxQueue ?? 1000;
    this.closeGraceMs = options.closeGraceMs ?? 5000;
    this.clock = options.clock ?? Date.now;
  }

  /** From the engine: used only when there is no alert store to say what is new. */
  deliver(alert: RaisedAlert): void {
    if (this.options.source !== 'engine') return;
    const previous = this.tracked.get(trackKey(alert));
    this.notify({
      alert,
      id: undefined,
      status: undefined,
      opened: previous === undefined,
      count: (previous?.count ?? 0) + 1,
      firstSeen: previous?.firstSeen ?? alert.raisedAt,
      lastSeen: alert.raisedAt,
      evidence: alert.evidence,
    });
  }

  /** An alert as stored (or, with the database down, as seen): delivered if it is news. */
  notify(occurrence: AlertOccurrence): void {
    if (this.closing) return;
    const key = trackKey(occurrence.alert);
    const previous = this.tracked.get(key);
    const now = this.clock();
    const reason = noticeReason(previous, occurrence, now, this.repeatIntervalMs);
    this.tracked.delete(key); // re-inserted last: the Map's order is least recently seen first
    this.tracked.set(key, {
      id: occurrence.id ?? previous?.id,
      lastDelivered: reason === undefined ? (previous?.lastDelivered ?? now) : now,
      count: occurrence.count,
      firstSeen: occurrence.firstSeen,
    });
    if (this.tracked.size > MAX_TRACKED) {
      const oldest = this.tracked.keys().next().value;
      if (oldest !== undefined) this.tracked.delete(oldest);
    }
    if (reason !== undefined) this.send(occurrence, reason);
  }

  /** Resolves when every queue is empty (tests, shutdown). */
  async flush(): Promise<void> {
    for (;;) {
      const running = this.targets.flatMap((t) => (t.running === undefined ? [] : [t.running]));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Stops retrying; what waits gets one attempt within closeGraceMs, the rest is dropped. */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.waits) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.closeGraceMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    for (const state of this.targets) {
      state.dropped += state.queue.length;
      state.queue.length = 0;
      if (state.dropped > 0) this.warn(state, `${state.dropped} alert delivery(ies) were dropped`);
    }
  }

  private send(occurrence: AlertOccurrence, reason: NoticeReason): void {
    const rank = SEVERITIES.indexOf(occurrence.alert.severity);
    const id = randomUUID();
    let body: string | undefined;
    for (const state of this.targets) {
      if (rank < SEVERITIES.indexOf(state.target.minSeverity)) continue;
      if (state.queue.length >= this.maxQueue) {
        state.dropped++;
        if (state.dropped === 1) this.warn(state, `queue full (${this.maxQueue}), dropping alerts`);
        continue;
      }
      body ??= JSON.stringify(alertNotice(occurrence, reason, id));
      state.queue.push({ id, body, attempts: 0 });
      state.running ??= this.run(state).finally(() => {
        state.running = undefined;
      });
    }
  }

  private async run(state: TargetState): Promise<void> {
    for (;;) {
      const delivery = state.queue[0];
      if (delivery === undefined) return;
      const outcome = await this.attempt(state.target, delivery);
      if (outcome.kind === 'retry' && !this.closing && delivery.attempts < this.maxAttempts) {
        if (!state.failing) this.warn(state, `${outcome.message}; retrying`);
        state.failing = true;
        await this.wait(this.delay(delivery.attempts, outcome.retryAfterMs));
        continue;
      }
      state.queue.shift();
      if (outcome.kind === 'delivered') {
        if (state.failing || state.droppedReported) this.warn(state, 'delivering again');
        state.failing = false;
        state.droppedReported = false;
        continue;
      }
      state.dropped++;
      if (!state.droppedReported) {
        const tries = delivery.attempts === 1 ? '' : ` after ${delivery.attempts} attempts`;
        this.warn(state, `${outcome.message}${tries}; delivery ${delivery.id} dropped`);
      }
      state.droppedReported = true;
    }
  }

  private async attempt(target: WebhookTarget, delivery: Delivery): Promise<Outcome> {
    delivery.attempts++;
    // Signed per attempt: a retry carries a fresh timestamp, so it passes the replay window.
    const timestamp = String(Math.floor(this.clock() / 1000));
    let response: Response;
    try {
      response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pgwarden-alerts',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: webhookSignature(target.secret, timestamp, delivery.body),
          [DELIVERY_HEADER]: delivery.id,
        },
        body: delivery.body,
        // A redirect could lead anywhere (plain http, another host): it is not followed.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // undici says only "fetch failed"; the cause names the socket error.
      const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
      const detail = cause?.code ?? cause?.message;
      const text = `${(error as Error).message}${detail === undefined ? '' : ` (${detail})`}`;
      // Messages may quote the URL, whose query may hold a token: the label stands in.
      return { kind: 'retry', message: text.replaceAll(target.url.href, target.label) };
    }
    await response.body?.cancel().catch(() => undefined);
    const { status } = response;
    if (status >= 200 && status < 300) return { kind: 'delivered' };
    if (status === 408 || status === 429 || status >= 500) {
      return {
        kind: 'retry',
        message: `HTTP ${status}`,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after'), this.clock()),
      };
    }
    return { kind: 'rejected', message: `HTTP ${status}` };
  }

  private delay(attempts: number, retryAfter: number | undefined): number {
    const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempts - 1));
    return retryAfter === undefined ? backoff : Math.min(this.maxBackoffMs, retryAfter);
  }

  /** A backoff wait that close() cuts short. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.waits.add(wake);
    });
  }

  private warn(state: TargetState, text: string): void {
    try {
      this.options.onWarning(`alert webhook ${state.target.label}: ${text}`);
    } catch {
      // a warning must not break delivery
    }
  }
}

function trackKey(alert: RaisedAlert): string {
  return `${alert.type}\0${alert.key}`;
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 section 10.2.3). */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
