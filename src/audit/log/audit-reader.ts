import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgwardenError } from '../../errors.js';
import { type IpAddress, parseCidr, parseIp } from '../../gateway/firewall/ip-address.js';
import { type AuditFile, listAuditFiles, readFileTail, readLineBatches } from './audit-files.js';
import { parseAuditLine, type SealedAuditRecord } from './audit-record.js';

/**
 * What `readAuditLog` keeps; all given criteria must hold, and a record
 * without the field a criterion looks at does not match it.
 */
export interface AuditFilter {
  /** The role name, exactly. */
  readonly user?: string | undefined;
  /** The statement class (e.g. `read`, `write`, `ddl`), ignoring case. */
  readonly class?: string | undefined;
  /** Records at or after this time (a Date, ms since the epoch, or an ISO 8601 string). */
  readonly since?: Date | number | string | undefined;
  /** Records before this time. */
  readonly until?: Date | number | string | undefined;
  /**
   * An object the statement touched, ignoring case: `public.accounts` matches
   * exactly, an unqualified `accounts` also matches it in any schema.
   */
  readonly object?: string | undefined;
  /** The client address: an IPv4/IPv6 address or a CIDR block. */
  readonly ip?: string | undefined;
  /** The command tag or SQLSTATE, ignoring case: `INSERT` matches `INSERT 0 1`. */
  readonly outcome?: string | undefined;
  /** The event name: `auth` matches `auth.failed`, `auth.failed` only itself. */
  readonly event?: string | undefined;
}

type Predicate = (record: SealedAuditRecord) => boolean;

/**
 * Compiles a filter into a predicate; throws PgwardenError PGW_USAGE for an
 * unreadable time or address.
 */
export function auditFilter(filter: AuditFilter): Predicate {
  const checks: Predicate[] = [];
  const { user, object, outcome, event } = filter;
  const klass = filter.class?.toLowerCase();
  if (user !== undefined) checks.push((r) => r.user === user);
  if (klass !== undefined)
    checks.push((r) => typeof r.class === 'string' && r.class.toLowerCase() === klass);
  if (filter.since !== undefined) {
    const since = timeOf(filter.since, 'since');
    checks.push((r) => Date.parse(r.time) >= since);
  }
  if (filter.until !== undefined) {
    const until = timeOf(filter.until, 'until');
    checks.push((r) => Date.parse(r.time) < until);
  }
  if (object !== undefined) {
    const wanted = object.toLowerCase();
    const qualified = wanted.includes('.');
    checks.push(
      (r) =>
        Array.isArray(r.objects) &&
        r.objects.some((o: unknown) => {
          if (typeof o !== 'string') return false;
          const name = o.toLowerCase();
          return name === wanted || (!qualified && name.endsWith(`.${wanted}`));
        }),
    );
  }
  if (filter.ip !== undefined) checks.push(addressMatcher(filter.ip));
  if (outcome !== undefined) {
    const wanted = outcome.toLowerCase();
    checks.push((r) => {
      if (typeof r.outcome !== 'string') return false;
      const value = r.outcome.toLowerCase();
      return value === wanted || value.startsWith(`${wanted} `);
    });
  }
  if (event !== undefined)
    checks.push((r) => r.event === event || String(r.event).startsWith(`${event}.`));
  return (record) => checks.every((check) => check(record));
}

/**
 * The records of the log in order (across files), those matching the filter.
 * Unreadable lines are skipped (`verifyAuditLog` is what reports them).
 */
export async function* readAuditLog(
  dir: string,
  filter: AuditFilter = {},
): AsyncGenerator<SealedAuditRecord, void, undefined> {
  const matches = auditFilter(filter);
  for (const file of await listAuditFiles(dir)) {
    try {
      for await (const batch of readLineBatches(file.path)) {
        for (const line of batch) {
          const record = parseAuditLine(line.text);
          if (record !== undefined && matches(record)) yield record;
        }
      }
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    }
  }
}

/** The last `n` records of the log, oldest first (reads files backwards, not whole). */
export async function tail(dir: string, n: number): Promise<SealedAuditRecord[]> {
  const files = await listAuditFiles(dir);
  const found: SealedAuditRecord[] = [];
  for (let i = files.length - 1; i >= 0 && found.length < n; i--) {
    const path = (files[i] as AuditFile).path;
    const wanted = n - found.length;
    let records: SealedAuditRecord[] = [];
    for (let count = wanted; ; count *= 2) {
      let lines: readonly string[];
      let wholeFile: boolean;
      try {
        ({ lines, wholeFile } = await readFileTail(path, count));
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') break;
        throw cause;
      }
      records = lines.flatMap((line) => parseAuditLine(line) ?? []);
      if (records.length >= wanted || wholeFile) break;
    }
    found.unshift(...records.slice(-wanted));
  }
  return found;
}

export interface FollowOptions {
  /** Start after this seq (e.g. the last one `tail` printed); default: at the end of the log. */
  readonly afterSeq?: number | undefined;
  /** How often to look for new lines (default 250 ms). */
  readonly intervalMs?: number | undefined;
  /** Stops following. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Yields records as they are appended, across rotations, until the signal
 * aborts. Polls (every 250 ms by default); reads only complete lines.
 */
export async function* follow(
  dir: string,
  options: FollowOptions = {},
): AsyncGenerator<SealedAuditRecord, void, undefined> {
  const { signal } = options;
  const intervalMs = options.intervalMs ?? 250;
  let after = options.afterSeq ?? 0;
  let current: AuditFile | undefined;
  let offset = 0;

  const files = await listAuditFiles(dir);
  if (options.afterSeq === undefined) {
    current = files.at(-1);
    if (current !== undefined) {
      offset = await readFileTail(current.path, 0).then(
        (t) => t.completeEnd,
        () => 0,
      );
    }
  } else {
    const start = files.findLastIndex((f) => f.firstSeq <= after + 1);
    current = files[Math.max(start, 0)];
  }

  while (signal?.aborted !== true) {
    const listed = await listAuditFiles(dir);
    if (current === undefined) {
      current = listed[0];
      offset = 0;
    }
    if (current !== undefined) {
      const reading = current;
      try {
        const size = (await stat(reading.path)).size;
        if (size < offset) offset = 0; // replaced under the same name
        if (size > offset) {
          for await (const batch of readLineBatches(reading.path, offset)) {
            for (const line of batch) {
              if (!line.terminated) break;
              offset = line.end;
              const record = parseAuditLine(line.text);
              if (record !== undefined && record.seq > after) {
                after = record.seq;
                yield record;
              }
            }
          }
        }
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
      }
      const later = listed.find(
        (f) =>
          f.firstSeq > reading.firstSeq ||
          (f.firstSeq === reading.firstSeq && f.name > reading.name),
      );
      if (later !== undefined) {
        // The writer starts a new file only after it is done with the old one.
        current = later;
        offset = 0;
        continue;
      }
    }
    try {
      await sleep(intervalMs, undefined, signal === undefined ? {} : { signal });
    } catch {
      return;
    }
  }
}

/**
 * A time bound for `--since`/`--until`: an ISO 8601 date or time (`2025-03-01`,
 * `2025-03-01T12:00:00Z`) or an age (`30s`, `15m`, `2h`, `7d` ago).
 */
export function parseTimeBound(text: string, now: number = Date.now()): number {
  const age = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (age !== null) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
      age[2] as 's' | 'm' | 'h' | 'd'
    ];
    return now - Number(age[1]) * unit;
  }
  const time = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (!Number.isFinite(time)) {
    throw new PgwardenError('PGW_USAGE', `"${text}" is not a time`, {
      hint: 'give an ISO 8601 date or time (2025-03-01, 2025-03-01T12:00:00Z) or an age (30m, 2h, 7d)',
    });
  }
  return time;
}

/**
 * A `since`/`until` filter value as ms since the epoch (an age string is
 * relative to now); throws PgwardenError PGW_USAGE when it is not a time.
 */
export function timeOf(value: Date | number | string, name: string): number {
  const time = typeof value === 'string' ? parseTimeBound(value) : Number(value);
  if (!Number.isFinite(time)) {
    throw new PgwardenError('PGW_USAGE', `the ${name} time is not valid`, {
      hint: 'give an ISO 8601 date or time, or an age (30m, 2h, 7d)',
    });
  }
  return time;
}

function addressMatcher(text: string): Predicate {
  const single = parseIp(text);
  const block = single === undefined ? parseCidr(text) : { start: single, end: single };
  if (block === undefined) {
    throw new PgwardenError('PGW_USAGE', `"${text}" is not an IP address or CIDR block`, {
      hint: 'give an address (10.1.2.3, 2001:db8::1) or a block (10.0.0.0/8)',
    });
  }
  const inBlock = (ip: IpAddress): boolean =>
    ip.family === block.start.family &&
    ip.value >= block.start.value &&
    ip.value <= block.end.value;
  return (record) => {
    if (typeof record.address !== 'string') return false;
    const ip = parseIp(record.address);
    return ip !== undefined && inBlock(ip);
  };
}
