import { join } from 'node:path';

/** Where the audit log lives in a data directory; the key is kept outside the log directory. */
export interface AuditPaths {
  /** `<dataDir>/audit/`: the audit-*.jsonl files (mode 0700, files 0600). */
  readonly logDir: string;
  /** `<dataDir>/keys/audit.key`: the HMAC key (mode 0600). */
  readonly keyFile: string;
  /** `<dataDir>/keys/audit.anchor`: where the log ended, sealed with the key (see audit-anchor.ts). */
  readonly anchorFile: string;
}

export function auditPaths(dataDir: string): AuditPaths {
  return {
    logDir: join(dataDir, 'audit'),
    keyFile: join(dataDir, 'keys', 'audit.key'),
    anchorFile: join(dataDir, 'keys', 'audit.anchor'),
  };
}
