import { isIPv4, isIPv6 } from 'node:net';
import type { Evidence } from '../alert-candidate.js';
import { ALERT_TYPES, type AlertSeverity, isAlertType } from '../alert-catalog.js';
import type { StoredAlert } from '../alert-store.js';

/**
 * Alerts as ArcSight Common Event Format lines ("Implementing ArcSight
 * Common Event Format (CEF)", revision 25, 2017):
 * `CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension`,
 * the signature id being the alert type and the name its description.
 */
export const CEF_SEVERITY: Readonly<Record<AlertSeverity, number>> = {
  low: 3,
  medium: 5,
  high: 8,
  critical: 10,
};

/** The longest value of a cs1…cs6 custom string (CEF rev 25: 4000 characters). */
const MAX_CUSTOM_STRING = 4000;

/** Header fields: backslash and pipe are escaped with a backslash (CEF rev 25, "Character Encoding"). */
export function cefHeaderEscape(text: string): string {
  // Newlines are not allowed in the header at all: they become spaces.
  return text.replace(/[\\|]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, ' ');
}

/**
 * Extension values: backslash and equals sign are escaped with a backslash,
 * and newlines are written as `\n` or `\r` (CEF rev 25, "Character Encoding").
 * A pipe needs no escape there.
 */
export function cefExtensionEscape(text: string): string {
  return text.replace(/[\\=\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

export function alertToCef(alert: StoredAlert, productVersion: string): string {
  const info = isAlertType(alert.type) ? ALERT_TYPES[alert.type] : undefined;
  const header = [
    'CEF:0',
    'pgwarden',
    'pgwarden',
    productVersion,
    alert.type,
    info?.description ?? alert.type,
    String(CEF_SEVERITY[alert.severity] ?? 0),
  ]
    .map((field, i) => (i === 0 ? field : cefHeaderEscape(field)))
    .join('|');
  const extension: [string, string | number | undefined][] = [
    ['rt', Date.parse(alert.lastSeen)],
    ['start', Date.parse(alert.firstSeen)],
    ['end', Date.parse(alert.lastSeen)],
    ['cnt', alert.count],
    ['externalId', alert.id],
    ['msg', alert.summary],
    ...sourceAddress(alert.subject.address),
    ['suser', alert.subject.user],
    ['cs1Label', 'tactic'],
    ['cs1', info?.tactic],
    ['cs2Label', 'technique'],
    ['cs2', info?.technique],
    ['cs3Label', 'status'],
    ['cs3', alert.status],
    ['cs4Label', 'dedupKey'],
    ['cs4', alert.key],
    ...(alert.subject.principal === undefined
      ? []
      : ([
          ['cs5Label', 'principal'],
          ['cs5', alert.subject.principal],
        ] as [string, string][])),
    ['cs6Label', 'evidence'],
    ['cs6', evidenceText(alert.evidence)],
  ];
  const pairs = extension
    .filter((pair): pair is [string, string | number] => pair[1] !== undefined && pair[1] !== '')
    .map(([key, value]) => `${key}=${cefExtensionEscape(String(value))}`);
  return `${header}|${pairs.join(' ')}`;
}

/** `src` takes IPv4 only; an IPv6 source goes to c6a2, labelled as CEF rev 25 reserves it. */
function sourceAddress(address: string | undefined): [string, string][] {
  if (address === undefined) return [];
  if (isIPv4(address)) return [['src', address]];
  if (isIPv6(address)) {
    return [
      ['c6a2Label', 'Source IPv6 Address'],
      ['c6a2', address],
    ];
  }
  return [];
}

/** The evidence, one item per `;`-separated entry, as many whole items as fit (the latest last). */
function evidenceText(evidence: readonly Evidence[]): string | undefined {
  const items = evidence.map((e) =>
    [e.time, e.event, e.address, e.user, e.database, e.detail]
      .filter((part) => part !== undefined && part !== '')
      .join(' '),
  );
  let text = '';
  for (const item of items) {
    const next = text === '' ? item : `${text}; ${item}`;
    if (next.length > MAX_CUSTOM_STRING) break;
    text = next;
  }
  return text === '' ? undefined : text;
}
