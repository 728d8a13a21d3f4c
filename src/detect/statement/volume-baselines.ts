import type { Queryable } from '../../control/gateway-settings/gateway-settings.js';

/** A role's usual session: how many sessions were learned, and their mean rows and bytes. */
export interface VolumeBaseline {
  readonly sessions: number;
  readonly rows: number;
  readonly bytes: number;
}

/** The baselines' rows in pgwarden.detection_baselines: kind, then one value per figure. */
const KIND = 'session-volume';
const FIGURES = ['sessions', 'rows', 'bytes'] as const;
/** After this many sessions the mean becomes a moving one: the baseline follows a role that changes. */
const WINDOW = 50;

/**
 * Rows and bytes per session for each role, learned from session ends and
 * kept in the state database (migration 10's detection_baselines), so they
 * survive restarts. Loaded once at start; each change is written behind
 * (coalesced, one statement at a time). Without a state database they live
 * in memory only.
 */
export class VolumeBaselines {
  private readonly dirty = new Set<string>();
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly state: Queryable | undefined,
    private readonly baselines: Map<string, VolumeBaseline>,
    private readonly onWarning: (message: string) => void,
  ) {}

  static async load(
    state: Queryable | undefined,
    onWarning: (message: string) => void,
  ): Promise<VolumeBaselines> {
    const baselines = new Map<string, { sessions: number; rows: number; bytes: number }>();
    if (state !== undefined) {
      try {
        const result = await state.query<{ subject: string; value: string; number: number | null }>(
          'SELECT subject, value, number FROM pgwarden.detection_baselines WHERE kind = $1',
          [KIND],
        );
        for (const row of result.rows) {
          if (!(FIGURES as readonly string[]).includes(row.value) || row.number === null) continue;
          const baseline = baselines.get(row.subject) ?? { sessions: 0, rows: 0, bytes: 0 };
          baseline[row.value as (typeof FIGURES)[number]] = row.number;
          baselines.set(row.subject, baseline);
        }
      } catch (error) {
        onWarning(`session volume baselines not loaded: ${(error as Error).message}`);
      }
    }
    return new VolumeBaselines(state, baselines, onWarning);
  }

  get(role: string): VolumeBaseline | undefined {
    return this.baselines.get(role);
  }

  /** One more session of `role`: the running mean, then a moving one over the last WINDOW. */
  learn(role: string, rows: number, bytes: number): void {
    const old = this.baselines.get(role) ?? { sessions: 0, rows: 0, bytes: 0 };
    const sessions = old.sessions + 1;
    const weight = 1 / Math.min(sessions, WINDOW);
    this.baselines.set(role, {
      sessions,
      rows: old.rows + (rows - old.rows) * weight,
      bytes: old.bytes + (bytes - old.bytes) * weight,
    });
    if (this.state === undefined) return;
    this.dirty.add(role);
    this.writing ??= this.writeBehind();
  }

  /** Waits for the baselines learned so far to be written. */
  async close(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async writeBehind(): Promise<void> {
    try {
      while (this.dirty.size > 0 && this.state !== undefined) {
        const roles = [...this.dirty];
        this.dirty.clear();
        const subjects: string[] = [];
        const values: string[] = [];
        const numbers: number[] = [];
        for (const role of roles) {
          const baseline = this.baselines.get(role);
          if (baseline === undefined) continue;
          for (const figure of FIGURES) {
            subjects.push(role);
            values.push(figure);
            numbers.push(baseline[figure]);
          }
        }
        await this.state.query(
          `INSERT INTO pgwarden.detection_baselines (kind, subject, value, number)
           SELECT $1, s, v, n FROM unnest($2::text[], $3::text[], $4::float8[]) AS t(s, v, n)
           ON CONFLICT (kind, subject, value) DO UPDATE SET number = EXCLUDED.number, last_seen = now()`,
          [KIND, subjects, values, numbers],
        );
      }
    } catch (error) {
      this.onWarning(`session volume baselines not saved: ${(error as Error).message}`);
    } finally {
      this.writing = undefined;
    }
  }
}
