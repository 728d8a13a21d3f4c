import type { DetectionConfig } from '../../config/config-schema.js';
import { failedLogin } from '../../gateway/throttle/failed-login.js';
import { RecentMap } from '../../gateway/throttle/recent-map.js';
import { type AlertCandidate, type Evidence, MAX_EVIDENCE } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { keyBudget, REPEAT_MS } from './failure-windows.js';
import { loginEvidence } from './login-evidence.js';

interface RoleState {
  /** The latest failure per source address; only the `distributedSources` most recent are kept. */
  readonly sources: RecentMap<string, { readonly at: number; readonly item: Evidence }>;
  raisedAt: number | undefined;
  sinceRaised: number;
}

/**
 * brute-force.distributed: failed logins for one role from at least
 * `distributedSources` different addresses in the window (a botnet, or
 * spraying from rotating addresses that each stay under the per-source
 * threshold). Roles that exist and roles that do not both count.
 */
export class DistributedBruteForce implements Detector {
  readonly name = 'brute-force.distributed';
  private readonly roles: RecentMap<string, RoleState>;
  private readonly windowMs: number;

  constructor(
    private readonly config: DetectionConfig['bruteForce'],
    private readonly repeatMs = REPEAT_MS,
  ) {
    this.roles = new RecentMap(keyBudget(config.distributedSources));
    this.windowMs = config.windowSeconds * 1000;
  }

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind !== 'event' || failedLogin(input.event) === undefined) return [];
    const { event, time } = input;
    const user = event.user;
    if (user === undefined) return [];
    const threshold = this.config.distributedSources;
    const state = this.roles.get(user) ?? {
      sources: new RecentMap(threshold),
      raisedAt: undefined,
      sinceRaised: 0,
    };
    this.roles.set(user, state);
    state.sources.set(event.address, { at: time, item: loginEvidence(event, time) });
    const since = time - this.windowMs;
    const current = [...state.sources.values()].filter((source) => source.at > since);
    if (current.length < threshold) {
      state.raisedAt = undefined;
      return [];
    }
    const evidence = current.slice(-MAX_EVIDENCE).map((source) => source.item);
    if (state.raisedAt === undefined) {
      state.raisedAt = time;
      state.sinceRaised = 0;
      return [
        this.candidate(
          user,
          `failed logins for role "${user}" from ${current.length} addresses within ${this.config.windowSeconds} s`,
          evidence,
        ),
      ];
    }
    state.sinceRaised++;
    if (time - state.raisedAt < this.repeatMs) return [];
    const more = state.sinceRaised;
    state.raisedAt = time;
    state.sinceRaised = 0;
    return [
      this.candidate(
        user,
        `${more} more failed logins for role "${user}" from ${current.length} or more addresses`,
        evidence,
      ),
    ];
  }

  private candidate(user: string, summary: string, evidence: readonly Evidence[]): AlertCandidate {
    return { type: 'brute-force.distributed', key: user, subject: { user }, summary, evidence };
  }
}
