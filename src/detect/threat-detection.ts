import type { DetectionConfig } from '../config/config-schema.js';
import type { Queryable } from '../control/gateway-settings/gateway-settings.js';
import type { SecurityEvent } from '../gateway/security-events.js';
import { ExemptRanges } from '../gateway/throttle/exempt-ranges.js';
import type { DataDirLayout } from '../server/data-dir-layout.js';
import { isAlertType } from './alert-catalog.js';
import { DistributedBruteForce } from './auth/distributed-brute-force.js';
import { HarmfulApplication } from './auth/harmful-application.js';
import { sourceBruteForce } from './auth/source-brute-force.js';
import { SuccessfulBruteForce } from './auth/successful-brute-force.js';
import { unknownUserBruteForce } from './auth/unknown-user-brute-force.js';
import { userBruteForce } from './auth/user-brute-force.js';
import { createLoginBaselineDetectors } from './baseline/login-baseline-detectors.js';
import { createSuspiciousIpDetectors } from './blocklist/suspicious-ip-detectors.js';
import type { Detector } from './detector.js';
import type { AlertSink } from './raised-alert.js';
import { ResponseAlertSink } from './response/response-alert-sink.js';
import type { SourceBlocker } from './response/source-blocker.js';
import { alertDeliverySinks } from './sinks/alert-delivery-sinks.js';
import { EventAlertSink } from './sinks/event-alert-sink.js';
import { createStatementDetectors } from './statement/statement-detectors.js';
import { ThreatDetector } from './threat-detector.js';

/** What the response actions act on: the gateway's live sessions and its door. */
export interface SessionControl {
  /** Ends one session with FATAL; false when no such session is live. */
  terminate(session: string, message: string): boolean;
  /** Ends every live session from an address; returns how many. */
  terminateFrom(address: string, message: string): number;
}

export interface DetectionDeps {
  readonly layout: DataDirLayout;
  readonly config: DetectionConfig;
  /** The state database (the gateway's control pool); undefined with no managed state. */
  readonly state: Queryable | undefined;
  /** Records a security event: events file, audit log, audit sinks. Never back into detection. */
  readonly recordEvent: (event: SecurityEvent) => void;
  readonly sessions: SessionControl;
  readonly onWarning: (message: string) => void;
  /** The gateway's block list (its login throttle): response actions block sources in it. */
  readonly blocks?: SourceBlocker | undefined;
}

/** The detectors, in the order they see each input. Each issue-7 part adds its own here. */
export async function createDetectors(_deps: DetectionDeps): Promise<Detector[]> {
  const detectors: Detector[] = [];
  const bruteForce = _deps.config.bruteForce;
  detectors.push(
    sourceBruteForce(bruteForce),
    userBruteForce(bruteForce),
    unknownUserBruteForce(bruteForce),
    new DistributedBruteForce(bruteForce),
    new SuccessfulBruteForce(bruteForce),
    new HarmfulApplication(_deps.config.harmfulApplications),
  );
  // What is usual for a login (learned, kept in the state database), and the blocklist.
  detectors.push(...(await createLoginBaselineDetectors(_deps)));
  detectors.push(...(await createSuspiciousIpDetectors(_deps)));
  // What statements reveal: injection, exfiltration, escalation (src/detect/statement).
  detectors.push(...(await createStatementDetectors(_deps)));
  return detectors;
}

/** Where alerts go. Each issue-7 part adds its own here. */
export async function createAlertSinks(deps: DetectionDeps): Promise<AlertSink[]> {
  const sinks: AlertSink[] = [new EventAlertSink(deps.recordEvent)];
  sinks.push(...alertDeliverySinks(deps));
  for (const type of Object.keys(deps.config.responses))
    if (!isAlertType(type)) deps.onWarning(`detection.responses: no alert type "${type}"`);
  const exempt = new ExemptRanges(deps.config.throttle.exemptRanges);
  sinks.push(
    new ResponseAlertSink(
      deps.config.responses,
      deps.sessions,
      deps.blocks ?? { block: () => false, isExempt: (address) => exempt.has(address) },
      deps.recordEvent,
    ),
  );
  return sinks;
}

/** Starts detection for a gateway; an engine with nothing in it when detection is off. */
export async function startThreatDetection(deps: DetectionDeps): Promise<ThreatDetector> {
  if (!deps.config.enabled) return new ThreatDetector([], [], deps.onWarning);
  const detectors = await createDetectors(deps);
  const engine = new ThreatDetector(detectors, await createAlertSinks(deps), (message) =>
    deps.onWarning(`detection: ${message}`),
  );
  for (const detector of detectors) detector.attach?.((candidate) => engine.alert(candidate));
  return engine;
}
