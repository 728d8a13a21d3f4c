import { isAbsolute, resolve } from 'node:path';
import type { Detector } from '../detector.js';
import type { DetectionDeps } from '../threat-detection.js';
import { AddressBlocklist } from './address-blocklist.js';
import { PolledFile } from './polled-file.js';
import { SuspiciousIpDetector } from './suspicious-ip-detector.js';

/**
 * The suspicious-IP detector when detection.blocklistFile is set (a relative
 * path is taken from the data directory). The file is read before the
 * gateway listens, then re-read within seconds of a change; each malformed
 * line is reported once, with its line number, and skipped.
 */
export async function createSuspiciousIpDetectors(
  deps: Pick<DetectionDeps, 'config' | 'layout' | 'onWarning'>,
  intervalMs?: number,
): Promise<Detector[]> {
  const file = deps.config.blocklistFile;
  if (file === undefined) return [];
  const path = isAbsolute(file) ? file : resolve(deps.layout.root, file);
  const reported = new Set<string>();
  const blocklist = new PolledFile(
    path,
    (content) => {
      const list = AddressBlocklist.parse(content.toString('utf8'));
      for (const problem of list.problems) {
        const key = `${problem.line}\u0000${problem.text}`;
        if (reported.has(key)) continue;
        reported.add(key);
        deps.onWarning(
          `blocklist ${path} line ${problem.line}: "${problem.text}" is not an address or CIDR range; skipped`,
        );
      }
      return list;
    },
    (message) => deps.onWarning(`blocklist ${message}`),
    intervalMs,
  );
  await blocklist.refresh();
  return [new SuspiciousIpDetector(() => blocklist.current())];
}
