import { isIP } from 'node:net';
import type { Evidence } from '../alert-candidate.js';
import { ALERT_TYPES, type AlertSeverity, isAlertType } from '../alert-catalog.js';
import type { AlertStatus, StoredAlert } from '../alert-store.js';

/**
 * Alerts as OCSF Detection Finding events (class_uid 2004, category
 * Findings, uid 2) of OCSF schema 1.3.0 (https://schema.ocsf.io/1.3.0/classes/detection_finding),
 * one JSON object per line. The ATT&CK mapping is in finding_info.attacks
 * and, as the class asks of a security control, in the top-level attacks of
 * the security_control profile.
 */
export const OCSF_VERSION = '1.3.0';

const CLASS_UID = 2004;
const CATEGORY_UID = 2;

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
export const OCSF_SEVERITY: Readonly<Record<AlertSeverity, { id: number; name: string }>> = {
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

/** Finding status_id, and the activity a snapshot in that status reports (1 Create, 2 Update, 3 Close). */
const STATUS: Readonly<
  Record<AlertStatus, { id: number; name: string; activity: number; activityName: string }>
> = {
  new: { id: 1, name: 'New', activity: 1, activityName: 'Create' },
  acknowledged: { id: 2, name: 'In Progress', activity: 2, activityName: 'Update' },
  resolved: { id: 4, name: 'Resolved', activity: 3, activityName: 'Close' },
};

/** ATT&CK tactic ids (https://attack.mitre.org/tactics/enterprise/). */
const TACTIC_IDS: Readonly<Record<string, string>> = {
  Reconnaissance: 'TA0043',
  'Resource Development': 'TA0042',
  'Initial Access': 'TA0001',
  Execution: 'TA0002',
  Persistence: 'TA0003',
  'Privilege Escalation': 'TA0004',
  'Defense Evasion': 'TA0005',
  'Credential Access': 'TA0006',
  Discovery: 'TA0007',
  'Lateral Movement': 'TA0008',
  Collection: 'TA0009',
  Exfiltration: 'TA0010',
  'Command and Control': 'TA0011',
  Impact: 'TA0040',
};

export function alertToOcsf(alert: StoredAlert, productVersion: string): Record<string, unknown> {
  const info = isAlertType(alert.type) ? ALERT_TYPES[alert.type] : undefined;
  const status = STATUS[alert.status];
  const severity = OCSF_SEVERITY[alert.severity];
  const firstSeen = Date.parse(alert.firstSeen);
  const lastSeen = Date.parse(alert.lastSeen);
  const attacks = info === undefined ? [] : [attack(info.tactic, info.technique)];
  return {
    activity_id: status.activity,
    activity_name: status.activityName,
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    type_uid: CLASS_UID * 100 + status.activity,
    type_name: `Detection Finding: ${status.activityName}`,
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    time: lastSeen,
    start_time: firstSeen,
    end_time: lastSeen,
    count: alert.count,
    message: alert.summary,
    metadata: {
      version: OCSF_VERSION,
      profiles: ['security_control'],
      product: { name: 'pgwarden', vendor_name: 'pgwarden', version: productVersion },
    },
    finding_info: {
      uid: `pgwarden-alert-${alert.id}`,
      title: alert.summary,
      desc: info?.description ?? alert.type,
      types: [alert.type],
      first_seen_time: firstSeen,
      last_seen_time: lastSeen,
      created_time: firstSeen,
      modified_time: lastSeen,
      analytic: { name: alert.type, uid: alert.type, type_id: 1, type: 'Rule' },
      attacks,
    },
    attacks,
    evidences: alert.evidence.map(evidence),
    unmapped: {
      dedup_key: alert.key,
      subject: alert.subject,
      acknowledged_by: alert.acknowledgedBy,
      acknowledged_at: alert.acknowledgedAt,
      resolved_by: alert.resolvedBy,
      resolved_at: alert.resolvedAt,
    },
  };
}

/** "T1110.001 Password Guessing" under "Credential Access" as an OCSF Attack object. */
function attack(tactic: string, technique: string): Record<string, unknown> {
  const match = /^(T\d{4}(?:\.\d{3})?)\s+(.+)$/.exec(technique);
  const tacticId = TACTIC_IDS[tactic];
  return {
    tactic: tacticId === undefined ? { name: tactic } : { name: tactic, uid: tacticId },
    technique: match === null ? { name: technique } : { name: match[2], uid: match[1] },
  };
}

/** An Evidence Artifacts object: the event in `data`, who and where in their own objects. */
function evidence(item: Evidence): Record<string, unknown> {
  const out: Record<string, unknown> = {
    data: {
      event: item.event,
      time: item.time,
      ...(item.detail === undefined ? {} : { detail: item.detail }),
    },
  };
  if (item.address !== undefined && isIP(item.address) !== 0)
    out.src_endpoint = { ip: item.address };
  if (item.user !== undefined || item.applicationName !== undefined) {
    out.actor = {
      ...(item.user === undefined ? {} : { user: { name: item.user } }),
      ...(item.applicationName === undefined ? {} : { app_name: item.applicationName }),
    };
  }
  if (item.database !== undefined)
    out.database = { name: item.database, type_id: 1, type: 'Relational' };
  return out;
}
