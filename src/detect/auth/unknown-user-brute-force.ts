import type { DetectionConfig } from '../../config/config-schema.js';
import type { Detector } from '../detector.js';
import { FailureCountDetector } from './failure-count-detector.js';

/**
 * brute-force.unknown-user: `unknownUserFailures` failed logins for roles
 * that do not exist, from one address (guessing names, not passwords).
 */
export function unknownUserBruteForce(config: DetectionConfig['bruteForce']): Detector {
  return new FailureCountDetector({
    name: 'brute-force.unknown-user',
    type: 'brute-force.unknown-user',
    threshold: config.unknownUserFailures,
    windowSeconds: config.windowSeconds,
    keyOf: (event, failure) => (failure.role === 'unknown' ? event.address : undefined),
    subject: (address) => ({ address }),
    summary: (address, hit) =>
      hit.kind === 'crossed'
        ? `${hit.count} failed logins for roles that do not exist from ${address} within ${config.windowSeconds} s`
        : `${hit.count} more failed logins for roles that do not exist from ${address}`,
  });
}
