import type { Detector } from '../detector.js';
import type { DetectionDeps } from '../threat-detection.js';
import { AdminMembership } from './admin-membership.js';
import { CopyOutDetector } from './copy-out-detector.js';
import { EscalationDetector } from './escalation-detector.js';
import { SecurityDefinerDetector } from './security-definer-detector.js';
import { SensitiveSelectDetector } from './sensitive-select-detector.js';
import { ServerAccessDetector } from './server-access-detector.js';
import { SqlInjectionDetector } from './sql-injection-detector.js';
import { StatementAnalyzer } from './statement-analyzer.js';
import { VolumeBaselines } from './volume-baselines.js';
import { VolumeDetector } from './volume-detector.js';

/**
 * The detectors of what statements reveal (docs/detection.md): they share
 * one analyzer, so a statement is looked at (and, if worth it, parsed) once.
 */
export async function createStatementDetectors(
  deps: Pick<DetectionDeps, 'config' | 'state' | 'onWarning'>,
): Promise<Detector[]> {
  const { config } = deps;
  const analyzer = new StatementAnalyzer(config.sensitiveTables);
  const baselines = await VolumeBaselines.load(deps.state, (message) =>
    deps.onWarning(`detection: ${message}`),
  );
  const detectors: Detector[] = [
    new SqlInjectionDetector(analyzer),
    new CopyOutDetector(analyzer, config.exfiltration.copyRows),
    new EscalationDetector(analyzer),
    new SecurityDefinerDetector(analyzer, new AdminMembership(deps.state)),
    new ServerAccessDetector(analyzer),
    new VolumeDetector(config.exfiltration, baselines),
  ];
  if (config.sensitiveTables.length > 0) {
    detectors.push(new SensitiveSelectDetector(analyzer, config.sensitiveTables));
  }
  return detectors;
}
