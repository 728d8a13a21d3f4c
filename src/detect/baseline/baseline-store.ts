import type { Queryable } from '../../control/gateway-settings/gateway-settings.js';

/** A row of pgwarden.detection_baselines (state migration 10), times in ms since the epoch. */
export interface BaselineRow {
  readonly subject: string;
  readonly value: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface BaselineSummary {
  readonly count: number;
  /** The oldest first_seen of the kind: where its history starts. */
  readonly oldest: number;
}

interface Pending {
  readonly kind: string;
  readonly subject: string;
  readonly value: string;
  firstSeen: number;
  lastSeen: number;
}

/** Rows per INSERT: one statement, one round trip, for a second of logins. */
const BATCH = 1000;
/** Sightings waiting for the database at most; past it (the database is away) new ones are dropped. */
const MAX_PENDING = 100_000;

/**
 * Baselines in the state database, so what is usual survives restarts and is
 * shared by gateways side by side. Sightings are queued and written in
 * batches (one upsert a second, or sooner when a batch is full), off the
 * session's path: a session never waits for this table. Repeated sightings
 * of the same row coalesce in the queue; the upsert only ever widens
 * first_seen/last_seen, so writers in any order agree.
 */
export class BaselineStore {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastProblem: string | undefined;
  private dropped = false;

  constructor(
    private readonly db: Queryable,
    private readonly onWarning: (message: string) => void,
    private readonly flushMs = 1000,
  ) {}

  /** Rows and the oldest first sighting per kind; kinds without rows are absent. */
  async summary(kinds: readonly string[]): Promise<Map<string, BaselineSummary>> {
    const result = await this.db.query<{ kind: string; count: number; oldest: Date }>(
      `SELECT kind, count(*)::int AS count, min(first_seen) AS oldest
         FROM pgwarden.detection_baselines WHERE kind = ANY($1::text[]) GROUP BY kind`,
      [kinds],
    );
    return new Map(
      result.rows.map((r) => [r.kind, { count: r.count, oldest: r.oldest.getTime() }]),
    );
  }

  /** Forgets rows not seen for `days`: they no longer count as usual anyway. */
  async prune(kind: string, days: number): Promise<void> {
    await this.db.query(
      `DELETE FROM pgwarden.detection_baselines
        WHERE kind = $1 AND last_seen < now() - make_interval(days => $2::int)`,
      [kind, days],
    );
  }

  /** The `limit` most recently seen rows of a kind, least recent first. */
  async load(kind: string, limit: number): Promise<BaselineRow[]> {
    const result = await this.db.query<{
      subject: string;
      value: string;
      first_seen: Date;
      last_seen: Date;
    }>(
      `SELECT subject, value, first_seen, last_seen FROM pgwarden.detection_baselines
        WHERE kind = $1 ORDER BY last_seen DESC LIMIT $2`,
      [kind, limit],
    );
    return result.rows
      .map((r) => ({
        subject: r.subject,
        value: r.value,
        firstSeen: r.first_seen.getTime(),
        lastSeen: r.last_seen.getTime(),
      }))
      .reverse();
  }

  /** Queues a sighting; written within `flushMs`. Never throws, never waits. */
  write(kind: string, subject: string, value: string, firstSeen: number, lastSeen: number): void {
    const key = `${kind}\u0000${subject}\u0000${value}`;
    const queued = this.pending.get(key);
    if (queued !== undefined) {
      queued.firstSeen = Math.min(queued.firstSeen, firstSeen);
      queued.lastSeen = Math.max(queued.lastSeen, lastSeen);
    } else if (this.pending.size >= MAX_PENDING) {
      if (!this.dropped)
        this.onWarning('baselines: the state database is behind; sightings dropped');
      this.dropped = true;
      return;
    } else {
      this.pending.set(key, { kind, subject, value, firstSeen, lastSeen });
    }
    if (this.pending.size >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Writes rows now, in batches (for a baseline seeded from the audit log). */
  async writeMany(kind: string, rows: Iterable<BaselineRow>): Promise<void> {
    let batch: Pending[] = [];
    for (const row of rows) {
      batch.push({ kind, ...row });
      if (batch.length === BATCH) {
        await this.upsert(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.upsert(batch);
  }

  /** Writes what is queued; resolves when it is written (or failed and was reported). */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const rows = [...this.pending.values()];
    this.pending.clear();
    this.dropped = false;
    this.writing = this.writing.then(async () => {
      for (let i = 0; i < rows.length; i += BATCH) {
        await this.upsert(rows.slice(i, i + BATCH)).catch((error: unknown) => this.problem(error));
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async upsert(rows: readonly Pending[]): Promise<void> {
    await this.db.query(
      `INSERT INTO pgwarden.detection_baselines AS b (kind, subject, value, first_seen, last_seen)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
       ON CONFLICT (kind, subject, value) DO UPDATE
         SET first_seen = LEAST(b.first_seen, EXCLUDED.first_seen),
             last_seen = GREATEST(b.last_seen, EXCLUDED.last_seen)`,
      [
        rows.map((r) => r.kind),
        rows.map((r) => r.subject),
        rows.map((r) => r.value),
        rows.map((r) => new Date(r.firstSeen).toISOString()),
        rows.map((r) => new Date(r.lastSeen).toISOString()),
      ],
    );
    this.lastProblem = undefined;
  }

  private problem(error: unknown): void {
    const message = `baselines could not be saved: ${error instanceof Error ? error.message : String(error)}`;
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.onWarning(message);
  }
}
