import type { StoredAlert } from '../../../src/detect/alert-store.js';

/** A stored alert as the CLI reads it back, for the export formats. */
export function storedAlert(overrides: Partial<StoredAlert> = {}): StoredAlert {
  return {
    id: 42,
    type: 'brute-force.source',
    severity: 'high',
    key: '203.0.113.9',
    status: 'new',
    summary: '12 failed logins from 203.0.113.9 in 60 s',
    subject: { address: '203.0.113.9', user: 'app' },
    evidence: [
      {
        time: '2025-01-01T00:00:01.000Z',
        event: 'auth.failed',
        address: '203.0.113.9',
        user: 'app',
        database: 'shop',
        applicationName: 'psql',
        detail: 'password authentication failed',
      },
    ],
    count: 12,
    firstSeen: '2025-01-01T00:00:01.000Z',
    lastSeen: '2025-01-01T00:01:00.000Z',
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    ...overrides,
  };
}

/**
 * A CEF line parsed the way a SIEM does (CEF rev 25): seven header fields
 * split on unescaped pipes, then key=value pairs split on unescaped equals
 * signs, the key being the word before it. Escapes undone.
 */
export function parseCef(line: string): { header: string[]; extension: Map<string, string> } {
  const header: string[] = [];
  let field = '';
  let i = 0;
  for (; i < line.length && header.length < 7; i++) {
    const c = line[i] as string;
    if (c === '\\' && (line[i + 1] === '\\' || line[i + 1] === '|')) {
      field += line[i + 1];
      i++;
    } else if (c === '|') {
      header.push(field);
      field = '';
    } else field += c;
  }
  if (header.length !== 7) throw new Error(`not a CEF line: ${line}`);
  const rest = line.slice(i);
  // Positions of unescaped '=' (an even run of backslashes before it).
  const equals: number[] = [];
  for (let j = 0; j < rest.length; j++) {
    if (rest[j] !== '=') continue;
    let slashes = 0;
    for (let k = j - 1; k >= 0 && rest[k] === '\\'; k--) slashes++;
    if (slashes % 2 === 0) equals.push(j);
  }
  const extension = new Map<string, string>();
  for (const [n, at] of equals.entries()) {
    const keyStart = rest.lastIndexOf(' ', at) + 1;
    const key = rest.slice(keyStart, at);
    const next = equals[n + 1];
    const end = next === undefined ? rest.length : rest.lastIndexOf(' ', next);
    const raw = rest.slice(at + 1, end);
    if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error(`bad key "${key}" in ${line}`);
    extension.set(
      key,
      raw.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c)),
    );
  }
  return { header, extension };
}
