import type { DetectionConfig } from '../../config/config-schema.js';
import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput, StatementObservation } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { statementEvidence } from './statement-evidence.js';
import type { VolumeBaseline, VolumeBaselines } from './volume-baselines.js';

const NONE: readonly AlertCandidate[] = [];
/** Sessions of a role learned before its baseline is trusted. */
export const LEARNING_SESSIONS = 10;
/** Bytes that count as the least alarming volume: minRows rows of 1 KiB. */
const BYTES_PER_MIN_ROW = 1024;

/**
 * `exfiltration.volume`: a session that returned far more than its role
 * usually gets — more than `factor` times the role's mean rows per session
 * and at least `minRows` rows, or more than `factor` times its mean bytes
 * and at least `minRows` KiB. Checked as the rows arrive (the alert comes
 * while the session is still reading, once per session), learned when the
 * session ends: only sessions that ran a statement and raised nothing are
 * learned, and no alert is raised for a role with fewer than
 * LEARNING_SESSIONS sessions learned. One alert per role.
 */
export class VolumeDetector implements Detector {
  readonly name = 'exfiltration-volume';
  private readonly live = new Map<string, { rows: number; bytes: number; alerted: boolean }>();

  constructor(
    private readonly config: DetectionConfig['exfiltration'],
    private readonly baselines: VolumeBaselines,
  ) {}

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind === 'statement') return this.statement(input.statement, input.time);
    if (input.kind !== 'session-end') return NONE;
    const { summary } = input;
    const session = this.live.get(summary.session);
    this.live.delete(summary.session);
    if (session?.alerted !== true && summary.statements > 0) {
      this.baselines.learn(summary.user, summary.rows, summary.bytes);
    }
    return NONE;
  }

  async close(): Promise<void> {
    await this.baselines.close();
  }

  private statement(statement: StatementObservation, time: number): readonly AlertCandidate[] {
    if (statement.rows === 0 && statement.bytes === 0) return NONE;
    let session = this.live.get(statement.session);
    if (session === undefined) {
      session = { rows: 0, bytes: 0, alerted: false };
      this.live.set(statement.session, session);
    }
    session.rows += statement.rows;
    session.bytes += statement.bytes;
    if (session.alerted) return NONE;
    const baseline = this.baselines.get(statement.user);
    if (baseline === undefined || baseline.sessions < LEARNING_SESSIONS) return NONE;
    const rowLimit = Math.max(this.config.minRows, this.config.factor * baseline.rows);
    const byteLimit = Math.max(
      this.config.minRows * BYTES_PER_MIN_ROW,
      this.config.factor * baseline.bytes,
    );
    if (session.rows <= rowLimit && session.bytes <= byteLimit) return NONE;
    session.alerted = true;
    const figures = `${session.rows} rows, ${session.bytes} bytes`;
    return [
      {
        type: 'exfiltration.volume',
        key: statement.user,
        subject: { address: statement.address, user: statement.user, session: statement.session },
        summary: `a session of ${statement.user} returned ${figures}: ${usual(baseline)}`,
        evidence: [
          statementEvidence(statement, time, `session so far ${figures}; ${usual(baseline)}`),
        ],
      },
    ];
  }
}

function usual(baseline: VolumeBaseline): string {
  return `usually ${Math.round(baseline.rows)} rows, ${Math.round(baseline.bytes)} bytes per session (${baseline.sessions} sessions learned)`;
}
