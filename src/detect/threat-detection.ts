import type { DetectionConfig } from '../config/config-schema.js';
import type { Queryable } from '../control/gateway-settings/gateway-settings.js';
import type { SecurityEvent } from '../gateway/security-events.js';
import type { DataDirLayout } from '../server/data-dir-layout.js';
import type { Detector } from './detector.js';
import type { AlertSink } from './raised-alert.js';
import { EventAlertSink } from './sinks/event-alert-sink.js';
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
}

/** The detectors, in the order they see each input. Each issue-7 part adds its own here. */
export async function createDetectors(_deps: DetectionDeps): Promise<Detector[]> {
  const detectors: Detector[] = [];
  return detectors;
}

/** Where alerts go. Each issue-7 part adds its own here. */
export async function createAlertSinks(deps: DetectionDeps): Promise<AlertSink[]> {
  const sinks: AlertSink[] = [new EventAlertSink(deps.recordEvent)];
  return sinks;
}

/** Starts detection for a gateway; an engine with nothing in it when detection is off. */
export async function startThreatDetection(deps: DetectionDeps): Promise<ThreatDetector> {
  if (!deps.config.enabled) return new ThreatDetector([], [], deps.onWarning);
  return new ThreatDetector(await createDetectors(deps), await createAlertSinks(deps), (message) =>
    deps.onWarning(`detection: ${message}`),
  );
}
