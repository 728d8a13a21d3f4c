import { listAuditFiles, readLineBatches } from '../../audit/log/audit-files.js';
import { parseAuditLine } from '../../audit/log/audit-record.js';
import { type Login, loginFromAuditRecord } from './login.js';

/** A file started this long after `since` may still hold records from just before it. */
const FILE_START_SLACK_MS = 60_000;
const MARKER = '"auth.succeeded"';

/**
 * The gateway logins (`auth.succeeded` records) of the audit log at or after
 * `since`, newest file first, so the most recent history arrives first if
 * `stop` cuts the reading short. Files that ended before `since` are not
 * opened; lines are streamed (constant memory) and only those naming the
 * event are parsed. Files removed by retention meanwhile are skipped.
 */
export async function* readLoginHistory(
  dir: string,
  since: number,
  stop: () => boolean = () => false,
): AsyncGenerator<Login, void, undefined> {
  const files = await listAuditFiles(dir);
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i];
    const next = files[i + 1];
    // A file ends where the next one starts: one that ended before the window is all older.
    if (file === undefined || (next !== undefined && next.startedAt + FILE_START_SLACK_MS < since))
      return;
    try {
      for await (const batch of readLineBatches(file.path)) {
        if (stop()) return;
        for (const line of batch) {
          if (!line.terminated || !line.text.includes(MARKER)) continue;
          const record = parseAuditLine(line.text);
          const login = record === undefined ? undefined : loginFromAuditRecord(record);
          if (login !== undefined && login.time >= since) yield login;
        }
      }
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    }
  }
}
