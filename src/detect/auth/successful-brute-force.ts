import type { DetectionConfig } from '../../config/config-schema.js';
import { failedLogin } from '../../gateway/throttle/failed-login.js';
import { type AlertCandidate, type Evidence, MAX_EVIDENCE } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { FailureWindows, keyBudget } from './failure-windows.js';
import { loginEvidence } from './login-evidence.js';

/**
 * brute-force.success: a successful login after at least
 * `successAfterFailures` failed logins in the window, for the same role or
 * from the same address (a password guessed, or a sprayed role found). Every
 * success ends the run of failures of its role and of its address, so a
 * typo now and then never adds up, and an alert is raised once per run. A
 * role's failures from an attacker are cleared by its owner's success from
 * elsewhere, but the attacker's address keeps its own count.
 */
export class SuccessfulBruteForce implements Detector {
  readonly name = 'brute-force.success';
  private readonly byUser: FailureWindows;
  private readonly byAddress: FailureWindows;

  constructor(private readonly config: DetectionConfig['bruteForce']) {
    const options = {
      threshold: config.successAfterFailures,
      windowMs: config.windowSeconds * 1000,
      maxKeys: keyBudget(config.successAfterFailures),
    };
    this.byUser = new FailureWindows(options);
    this.byAddress = new FailureWindows(options);
  }

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind !== 'event') return [];
    const { event, time } = input;
    const failure = failedLogin(event);
    if (failure !== undefined) {
      // The same evidence object in both windows: merged below without duplicates.
      const item = loginEvidence(event, time);
      if (failure.role === 'existing' && event.user !== undefined)
        this.byUser.add(event.user, time, item);
      this.byAddress.add(event.address, time, item);
      return [];
    }
    if (event.event !== 'auth.succeeded' || event.user === undefined) return [];
    const threshold = this.config.successAfterFailures;
    const forUser = this.byUser.recent(event.user, time);
    const fromAddress = this.byAddress.recent(event.address, time);
    // A success ends the run it follows, alert or not: a typo now and then never adds up.
    this.byUser.delete(event.user);
    this.byAddress.delete(event.address);
    if (forUser.count < threshold && fromAddress.count < threshold) return [];
    const failures = [...new Set([...forUser.evidence, ...fromAddress.evidence])]
      .sort((a, b) => a.time.localeCompare(b.time))
      .slice(-(MAX_EVIDENCE - 1));
    const evidence: Evidence[] = [...failures, loginEvidence(event, time)];
    const why =
      forUser.count >= threshold
        ? `${forUser.count} failed logins for the role`
        : `${fromAddress.count} failed logins from the address`;
    return [
      {
        type: 'brute-force.success',
        key: event.user,
        subject: { user: event.user, address: event.address, session: event.session },
        summary: `role "${event.user}" logged in from ${event.address} after ${why} within ${this.config.windowSeconds} s`,
        evidence,
      },
    ];
  }
}
