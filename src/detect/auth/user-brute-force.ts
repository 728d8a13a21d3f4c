import type { DetectionConfig } from '../../config/config-schema.js';
import type { Detector } from '../detector.js';
import { FailureCountDetector } from './failure-count-detector.js';

/** brute-force.user: `userFailures` failed logins for one existing role, from any addresses. */
export function userBruteForce(config: DetectionConfig['bruteForce']): Detector {
  return new FailureCountDetector({
    name: 'brute-force.user',
    type: 'brute-force.user',
    threshold: config.userFailures,
    windowSeconds: config.windowSeconds,
    keyOf: (event, failure) => (failure.role === 'existing' ? event.user : undefined),
    subject: (user) => ({ user }),
    summary: (user, hit) =>
      hit.kind === 'crossed'
        ? `${hit.count} failed logins for role "${user}" within ${config.windowSeconds} s`
        : `${hit.count} more failed logins for role "${user}"`,
  });
}
