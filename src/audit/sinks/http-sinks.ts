import { readFileSync } from 'node:fs';
import { QueuedSink, type QueuedSinkOptions, type SinkRecord } from './queued-sink.js';

export interface HttpSinkOptions extends QueuedSinkOptions {
  readonly url: string;
  /** A file holding a bearer token (kept out of pgwarden.yaml). */
  readonly tokenFile?: string | undefined;
  readonly timeoutMs?: number;
}

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

  protected async deliver(batch: readonly SinkRecord[]): Promise<void> {
    const response = await fetch(this.http.url, {
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(this.body(batch)),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
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
}

/**
 * OTLP/HTTP JSON logs (OpenTelemetry protocol, /v1/logs): one LogRecord per
 * audit record, the record's fields as attributes.
 */
export class OtlpLogSink extends HttpSink {
  readonly name = 'otlp';
  constructor(options: HttpSinkOptions) {
    super(options);
  }
  protected body(batch: readonly SinkRecord[]): unknown {
    return {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pgwarden' } }] },
          scopeLogs: [
            {
              scope: { name: 'pgwarden.audit' },
              logRecords: batch.map((record) => ({
                timeUnixNano: String(BigInt(Date.parse(record.time)) * 1_000_000n),
                severityText: record.error === true ? 'WARN' : 'INFO',
                body: { stringValue: String(record.event) },
                attributes: Object.entries(record).map(([key, value]) => ({
                  key,
                  value: anyValue(value),
                })),
              })),
            },
          ],
        },
      ],
    };
  }
}

function anyValue(value: unknown): Record<string, unknown> {
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  if (value === null || value === undefined) return { stringValue: '' };
  return { stringValue: typeof value === 'string' ? value : JSON.stringify(value) };
}
