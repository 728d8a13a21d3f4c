import type { DetectionConfig } from '../../config/config-schema.js';
import type { Detector } from '../detector.js';
import { FailureCountDetector } from './failure-count-detector.js';

/** brute-force.source: `sourceFailures` failed logins (any roles) from one address in the window. */
export function sourceBruteForce(config: DetectionConfig['bruteForce']): Detector {
  return new FailureCountDetector({
    name: 'brute-force.source',
    type: 'brute-force.source',
    threshold: config.sourceFailures,
    windowSeconds: config.windowSeconds,
    keyOf: (event) => event.address,
    subject: (address) => ({ address }),
    summary: (address, hit) =>
      hit.kind === 'crossed'
        ? `${hit.count} failed logins from ${address} within ${config.windowSeconds} s`
        : `${hit.count} more failed logins from ${address}`,
  });
}
