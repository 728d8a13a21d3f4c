import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { readLoginHistory } from './audit-login-history.js';
import { BaselineMemory } from './baseline-memory.js';
import type { BaselineStore } from './baseline-store.js';
import { type Login, loginFromEvent } from './login.js';
import type { LoginFacet } from './login-facet.js';

const DAY_MS = 86_400_000;
/** A baseline learns (records, never alerts) until its history covers this many days, or its window if shorter. */
export const LEARNING_DAYS = 7;
/** Rows of each kind loaded from the state database, most recent first. */
const MAX_ENTRIES = 100_000;
/** Logins held while the baselines load; past it, logins are only learned from. */
const MAX_HELD = 10_000;
/** Most usual values an alert lists. */
const USUAL_LISTED = 3;

interface FacetState {
  readonly facet: LoginFacet;
  readonly memory: BaselineMemory;
  readonly windowMs: number;
  readonly learningMs: number;
}

export interface LoginBaselineOptions {
  readonly facets: readonly LoginFacet[];
  /** The state database; undefined keeps baselines in memory only (seeded at each start). */
  readonly store: BaselineStore | undefined;
  /** The audit log directory, to seed empty baselines from. */
  readonly auditDir: string;
  readonly onWarning: (message: string) => void;
  /** Seeding from the audit log stops after this long, keeping what it read (default 2 min). */
  readonly seedBudgetMs?: number;
  readonly clock?: () => number;
}

/**
 * The login baselines: what is usual for each role or principal (that it
 * logs in at all, its networks, countries, providers), learned from live
 * `auth.succeeded` events and, at start, from the state database, or from
 * the audit log's logins for a kind the database has nothing of.
 *
 * Until the baselines are loaded (and seeded), logins are held, not judged:
 * judging them against a half-read history would call every role new. Held
 * logins are judged as soon as loading ends; what they raise goes to the
 * `attach`ed callback, or else out with the detector's next input (the
 * engine's Detector interface takes alerts only from `observe`).
 *
 * Learning: a kind of baseline whose history (its oldest first sighting)
 * covers less than LEARNING_DAYS (or its window, if shorter) only records.
 * So a fresh server raises nothing while its usual logins are learned, and a
 * server with weeks of audit log is past learning as soon as it is seeded.
 */
export class LoginBaselineDetector implements Detector {
  readonly name = 'login-baselines';
  private readonly states: FacetState[];
  private readonly clock: () => number;
  private ready = false;
  private closed = false;
  private held: Login[] = [];
  private heldOverflow = false;
  private pending: AlertCandidate[] = [];
  private raiseLater: ((candidate: AlertCandidate) => void) | undefined;

  constructor(private readonly options: LoginBaselineOptions) {
    this.clock = options.clock ?? Date.now;
    this.states = options.facets.map((facet) => ({
      facet,
      memory: new BaselineMemory(MAX_ENTRIES),
      windowMs: facet.windowDays * DAY_MS,
      learningMs: Math.min(LEARNING_DAYS, facet.windowDays) * DAY_MS,
    }));
  }

  /**
   * Loads the baselines: `loaded` resolves once the state database was read,
   * `ready` once the empty kinds are also seeded from the audit log and held
   * logins judged. Neither rejects.
   */
  start(): { loaded: Promise<void>; ready: Promise<void> } {
    let markLoaded: () => void = () => undefined;
    const loaded = new Promise<void>((resolve) => {
      markLoaded = resolve;
    });
    const ready = (async () => {
      let empty: FacetState[];
      try {
        empty = await this.load();
      } finally {
        markLoaded();
      }
      if (empty.length > 0) await this.seed(empty);
    })()
      .catch((error: unknown) => this.options.onWarning(`baselines: ${messageOf(error)}`))
      .finally(() => this.becomeReady());
    return { loaded, ready };
  }

  observe(input: DetectionInput): readonly AlertCandidate[] {
    const out = this.pending.length > 0 ? this.pending.splice(0) : [];
    if (input.kind !== 'event') return out;
    const login = loginFromEvent(input.event, input.time);
    if (login === undefined) return out;
    if (this.ready) out.push(...this.judge(login));
    else if (this.held.length < MAX_HELD) this.held.push(login);
    else {
      if (!this.heldOverflow)
        this.options.onWarning('baselines: still loading; more logins are learned without a check');
      this.heldOverflow = true;
      this.learn(login);
    }
    return out;
  }

  /**
   * Where alerts about held logins go once they are judged, instead of out
   * with the next input: e.g. the engine's `alert`. Optional.
   */
  attach(raise: (candidate: AlertCandidate) => void): void {
    this.raiseLater = raise;
    for (const candidate of this.pending.splice(0)) raise(candidate);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.options.store?.close();
  }

  /** Judges a login against each facet, then learns from it. */
  private judge(login: Login): AlertCandidate[] {
    const raised: AlertCandidate[] = [];
    for (const state of this.states) {
      const seen = state.facet.valueOf(login);
      if (seen === undefined) continue;
      const { memory, facet } = state;
      const entry = memory.get(login.identity, seen.value);
      const since = login.time - state.windowMs;
      memory.startedAt ??= login.time;
      const learning = login.time - memory.startedAt < state.learningMs;
      if (!learning && (entry === undefined || entry.lastSeen < since)) {
        const usual = memory.recent(login.identity, since, USUAL_LISTED);
        if (!facet.perSubject || usual.length > 0) {
          raised.push(this.candidate(state, login, seen, usual, entry?.lastSeen));
        }
      }
      this.remember(state, login, seen.value);
    }
    return raised;
  }

  private learn(login: Login): void {
    for (const state of this.states) {
      const seen = state.facet.valueOf(login);
      if (seen !== undefined) this.remember(state, login, seen.value);
    }
  }

  private remember(state: FacetState, login: Login, value: string): void {
    state.memory.record(login.identity, value, login.time, login.time);
    this.options.store?.write(state.facet.kind, login.identity, value, login.time, login.time);
  }

  private candidate(
    state: FacetState,
    login: Login,
    seen: { value: string; label: string },
    usual: readonly string[],
    lastSeen: number | undefined,
  ): AlertCandidate {
    const { facet } = state;
    const { summary, detail } = facet.describe(
      login,
      seen,
      usual.map((value) => facet.labelOf(value)),
      lastSeen,
    );
    return {
      type: facet.alert,
      key: seen.value === '' ? login.identity : `${login.identity} ${seen.value}`,
      subject: { address: login.address, user: login.user, principal: login.principal },
      summary,
      evidence: [
        {
          time: new Date(login.time).toISOString(),
          event: 'auth.succeeded',
          address: login.address,
          user: login.user,
          database: login.database,
          applicationName: login.applicationName,
          detail,
        },
      ],
    };
  }

  /** Reads the state database; returns the facets whose kind has no rows there. */
  private async load(): Promise<FacetState[]> {
    const { store } = this.options;
    if (store === undefined) return this.states;
    try {
      for (const state of this.states) await store.prune(state.facet.kind, state.facet.windowDays);
      const summary = await store.summary(this.states.map((s) => s.facet.kind));
      const empty: FacetState[] = [];
      for (const state of this.states) {
        const kind = summary.get(state.facet.kind);
        if (kind === undefined || kind.count === 0) {
          empty.push(state);
          continue;
        }
        for (const row of await store.load(state.facet.kind, MAX_ENTRIES)) {
          state.memory.record(row.subject, row.value, row.firstSeen, row.lastSeen);
        }
        state.memory.startedAt = Math.min(state.memory.startedAt ?? kind.oldest, kind.oldest);
      }
      return empty;
    } catch (error) {
      this.options.onWarning(
        `baselines: the state database could not be read (${messageOf(error)}); learning from the audit log`,
      );
      return this.states;
    }
  }

  /** Fills empty kinds from the audit log's logins within their window, then saves them. */
  private async seed(states: readonly FacetState[]): Promise<void> {
    const now = this.clock();
    const since = now - Math.max(...states.map((s) => s.windowMs));
    const deadline = now + (this.options.seedBudgetMs ?? 120_000);
    let stoppedEarly = false;
    const stop = (): boolean => {
      stoppedEarly = this.closed || this.clock() > deadline;
      return stoppedEarly;
    };
    for await (const login of readLoginHistory(this.options.auditDir, since, stop)) {
      for (const state of states) {
        if (login.time < now - state.windowMs) continue;
        const seen = state.facet.valueOf(login);
        if (seen !== undefined)
          state.memory.record(login.identity, seen.value, login.time, login.time);
      }
    }
    if (stoppedEarly && !this.closed) {
      this.options.onWarning(
        'baselines: the audit log was not read to its start in time; older logins were left out',
      );
    }
    const { store } = this.options;
    if (store === undefined || this.closed) return;
    for (const state of states) {
      if (this.closed) return;
      const rows = [...state.memory.entries()].map(({ subject, value, entry }) => ({
        subject,
        value,
        ...entry,
      }));
      await store.writeMany(state.facet.kind, rows);
    }
  }

  private becomeReady(): void {
    this.ready = true;
    const held = this.held;
    this.held = [];
    for (const login of held) {
      for (const candidate of this.judge(login)) {
        if (this.raiseLater === undefined) this.pending.push(candidate);
        else this.raiseLater(candidate);
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
