import { readFileSync } from 'node:fs';
import {
  QueuedSink,
  type QueuedSinkOptions,
  type SinkRecord,
  SinkRejectedError,
  SinkRetryError,
} from './queued-sink.js';

export interface HttpSinkOptions extends QueuedSinkOptions {
  readonly url: string;
  /** A file holding a bearer token (kept out of pgwarden.yaml). */
  readonly tokenFile?: string | undefined;
  readonly timeoutMs?: number;
}

/** The most of a response body read (for an OTLP partial success); the rest is discarded. */
const MAX_RESPONSE_BYTES = 64 * 1024;

abstract class HttpSink extends QueuedSink {
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  protected constructor(private readonly http: HttpSinkOptions) {
    super(http);
    this.timeoutMs = http.timeoutMs ?? 5000;
    this.headers = { 'content-type': 'application/json' };
    if (http.tokenFile !== undefined) {
      this.headers.authorization = `Bearer ${readFileSync(http.tokenFile, 'utf8').trim()}`;
    }
  }

  protected abstract body(batch: readonly SinkRecord[]): unknown;

  /** Whether a failed answer is worth sending the same batch again. */
  protected abstract retryable(status: number): boolean;

  /** Looks at a successful answer's body; the default ignores it. */
  protected accepted(_body: string): void {}

  protected async deliver(batch: readonly SinkRecord[]): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.http.url, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(this.body(batch), bigintAsString),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // undici says only "fetch failed"; the cause names the socket error.
      const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
      const detail = cause?.code ?? cause?.message;
      throw new Error(`${(error as Error).message}${detail === undefined ? '' : ` (${detail})`}`);
    }
    if (response.ok) {
      this.accepted(await readBounded(response));
      return;
    }
    await response.body?.cancel();
    const message = `HTTP ${response.status}`;
    if (!this.retryable(response.status)) throw new SinkRejectedError(`${message}, batch dropped`);
    throw new SinkRetryError(message, retryAfterMs(response.headers.get('retry-after')));
  }
}

/** POSTs batches of records as a JSON array to a webhook. */
export class WebhookSink extends HttpSink {
  readonly name = 'webhook';
  constructor(options: HttpSinkOptions) {
    super(options);
  }
  protected body(batch: readonly SinkRecord[]): unknown {
    return batch;
  }
  /** Timeouts, throttling and server errors are retried; any other 4xx would fail again. */
  protected retryable(status: number): boolean {
    return status === 408 || status === 429 || status >= 500;
  }
}

/** SeverityNumber values of the OpenTelemetry logs data model. */
const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;

/**
 * OTLP/HTTP JSON logs (OpenTelemetry protocol, /v1/logs): one LogRecord per
 * audit record, the event name as body, the record's fields as attributes.
 */
export class OtlpLogSink extends HttpSink {
  readonly name = 'otlp';
  constructor(options: HttpSinkOptions) {
    super(options);
  }

  protected body(batch: readonly SinkRecord[]): unknown {
    const observed = unixNano(Date.now());
    return {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pgwarden' } }] },
          scopeLogs: [
            {
              scope: { name: 'pgwarden.audit' },
              logRecords: batch.map((record) => {
                const warn = record.error === true;
                return {
                  // OTLP spec, JSON Protobuf Encoding: 64-bit integers are decimal strings;
                  // 0 means unknown, which beats throwing on an unparsable time.
                  timeUnixNano: unixNano(Date.parse(record.time)),
                  observedTimeUnixNano: observed,
                  severityNumber: warn ? SEVERITY_WARN : SEVERITY_INFO,
                  severityText: warn ? 'WARN' : 'INFO',
                  body: { stringValue: String(record.event) },
                  attributes: attributes(record),
                };
              }),
            },
          ],
        },
      ],
    };
  }

  /** OTLP spec, OTLP/HTTP Response (Failures): only 429, 502, 503 and 504 may be retried. */
  protected retryable(status: number): boolean {
    return status === 429 || status === 502 || status === 503 || status === 504;
  }

  /** OTLP spec, Partial Success: the rejected records must not be resent, but are reported. */
  protected override accepted(body: string): void {
    let partial: { rejectedLogRecords?: unknown; errorMessage?: unknown } | undefined;
    try {
      partial = (JSON.parse(body) as { partialSuccess?: typeof partial }).partialSuccess;
    } catch {
      return;
    }
    const rejected = Number(partial?.rejectedLogRecords ?? 0);
    if (rejected > 0) {
      const why = typeof partial?.errorMessage === 'string' ? `: ${partial.errorMessage}` : '';
      this.report(`receiver rejected ${rejected} log records${why}`);
    }
  }
}

function unixNano(ms: number): string {
  return Number.isFinite(ms) && ms >= 0 ? String(BigInt(ms) * 1_000_000n) : '0';
}

/** Attributes must have unique keys; null and undefined fields are left out (OTLP has no null attribute). */
function attributes(record: SinkRecord): { key: string; value: Record<string, unknown> }[] {
  return Object.entries(record)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => ({ key, value: anyValue(value) }));
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An AnyValue in OTLP/JSON (the proto3 JSON mapping: int64 as a decimal string, NaN and infinities as strings). */
function anyValue(value: unknown): Record<string, unknown> {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return { intValue: String(value) };
    return { doubleValue: Number.isFinite(value) ? value : String(value) };
  }
  if (typeof value === 'bigint') {
    return value >= INT64_MIN && value <= INT64_MAX
      ? { intValue: String(value) }
      : { stringValue: String(value) };
  }
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'string') return { stringValue: value };
  // An AnyValue with no field set is the empty value.
  if (value === null || value === undefined) return {};
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  return { stringValue: JSON.stringify(value, bigintAsString) ?? '' };
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? String(value) : value;
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 section 10.2.3). */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The start of a successful answer's body; a body that fails or stalls does not undo the success. */
async function readBounded(response: Response): Promise<string> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= MAX_RESPONSE_BYTES) break; // leaving the loop cancels the stream
    }
  } catch {
    return '';
  }
  return Buffer.concat(chunks).toString('utf8');
}
