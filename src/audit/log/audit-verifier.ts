import { basename } from 'node:path';
import { readAnchor } from './audit-anchor.js';
import { type AuditFile, listAuditFiles, readLineBatches } from './audit-files.js';
import {
  GENESIS_MAC,
  lineSealedBy,
  parseAuditLine,
  type SealedAuditRecord,
} from './audit-record.js';

export type VerifyProblem =
  | 'modified'
  | 'deleted'
  | 'reordered'
  | 'malformed'
  | 'inserted'
  | 'truncated'
  | 'anchor-invalid'
  | 'anchor-mismatch';

export interface VerifyOptions {
  /**
   * The anchor (audit-anchor.ts): the log must reach its seq, with its MAC
   * there, which proves the tail. Without it, records cut off the end leave
   * no trace.
   */
  readonly anchorFile?: string | undefined;
}

/**
 * The outcome of `verifyAuditLog`. On failure, `file` (full path) and `line`
 * (1-based) locate the first broken record and `records` counts the records
 * verified before it. `seq` is the seq of the broken record: for 'modified',
 * 'inserted' and 'malformed' the seq on that line (null if unreadable); for
 * 'deleted' and 'reordered' the first seq that is not where it should be, and
 * `line` is where it should have been.
 */
export type VerifyResult =
  | {
      readonly ok: true;
      readonly records: number;
      readonly files: number;
      readonly firstSeq: number;
      readonly lastSeq: number;
    }
  | {
      readonly ok: false;
      readonly records: number;
      readonly file: string;
      readonly line: number;
      readonly seq: number | null;
      readonly problem: VerifyProblem;
      readonly message: string;
    };

/** How far ahead the verifier looks for a missing seq to tell reordering from deletion. */
const LOOKAHEAD_LINES = 10_000;

interface LogLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly terminated: boolean;
}

/**
 * Verifies the audit log in `dir`: every record's MAC, that each `prev` is the
 * previous record's MAC and that seq rises by exactly 1 across all files. A
 * log whose first record has seq N > 1 must contain an `audit.retention`
 * record accounting for seq 1..N-1 (`removedThroughSeq` N-1 and
 * `lastRemovedMac` equal to the first record's prev). A last line without a
 * newline (a torn write) is ignored unless it is a valid next record.
 *
 * Diagnosis of the first broken record: a MAC mismatch is 'modified' ('inserted'
 * if the next line continues the chain, so that line is extra); a valid record
 * whose seq jumps ahead is 'reordered' when a missing seq turns up within the
 * next 10 000 lines and 'deleted' otherwise; a valid record with an earlier seq
 * is 'reordered' ('inserted' when it is a duplicate the chain continues past); a
 * valid record at the right seq that does not chain is 'inserted' (from
 * another chain); an unreadable line is 'malformed'.
 *
 * With an anchor, a log that ends before the anchor's seq is 'truncated'; a
 * record at that seq with another MAC, or an anchor whose seal is wrong, is
 * 'anchor-mismatch' or 'anchor-invalid' (the log or the anchor was replaced).
 * The anchor may lag the log (it is rewritten after each batch): records after
 * it are fine.
 *
 * Streams the files: memory stays constant however long the log.
 */
export async function verifyAuditLog(
  dir: string,
  key: Buffer,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const anchor =
    options.anchorFile === undefined ? undefined : await readAnchor(options.anchorFile, key);
  if (anchor === 'invalid') {
    const file = options.anchorFile as string;
    return {
      ok: false,
      records: 0,
      file,
      line: 1,
      seq: null,
      problem: 'anchor-invalid',
      message: `${file}: anchor-invalid: the anchor does not verify with the key: it was altered, or belongs to another key`,
    };
  }
  /** The MAC of the record at the anchor's seq, once seen. */
  let anchoredMac: string | undefined;
  let lastLine: LogLine | undefined;
  const files = await listAuditFiles(dir);
  const source = logLines(files)[Symbol.asyncIterator]();
  const next = async (): Promise<LogLine | undefined> => {
    const step = await source.next();
    return step.done === true ? undefined : step.value;
  };
  const macOk = (line: LogLine, record: SealedAuditRecord): boolean =>
    lineSealedBy(key, line.text, record);

  let records = 0;
  let firstSeq = 0;
  let lastSeq = 0;
  let prevMac = GENESIS_MAC;
  let expected = 1;
  let removedThrough = 0;
  /** A first record with seq > 1, until a retention record accounts for the records before it. */
  let unproven: { seq: number; prev: string; file: string; line: number } | undefined;

  const fail = (
    at: LogLine,
    problem: VerifyProblem,
    seq: number | null,
    what: string,
  ): VerifyResult => ({
    ok: false,
    records,
    file: at.file,
    line: at.line,
    seq,
    problem,
    message: `${at.file} line ${at.line}${seq === null ? '' : ` (seq ${seq})`}: ${problem}: ${what}`,
  });
  /** Whether a line is the record that should come next in the chain. */
  const continues = (line: LogLine | undefined): boolean => {
    const record = line === undefined ? undefined : parseAuditLine(line.text);
    if (line === undefined || record === undefined || !macOk(line, record)) return false;
    if (records === 0) return record.seq === 1 && record.prev === GENESIS_MAC;
    return record.seq === expected && record.prev === prevMac;
  };

  for (let at = await next(); at !== undefined; at = await next()) {
    const record = parseAuditLine(at.text);
    if (!at.terminated && !continues(at)) continue; // a torn write
    if (record === undefined) {
      return fail(
        at,
        'malformed',
        null,
        `the line is not an audit record${records > 0 ? ` (seq ${expected} was expected)` : ''}`,
      );
    }
    if (!macOk(at, record)) {
      if (continues(await next())) {
        return fail(
          at,
          'inserted',
          record.seq,
          `the line is not part of the chain (its MAC is wrong and the next line continues from seq ${expected - 1})`,
        );
      }
      return fail(
        at,
        'modified',
        record.seq,
        `the record's MAC does not match its content: it was altered${record.seq !== expected && records > 0 ? ` (seq ${expected} was expected)` : ''}`,
      );
    }
    if (records === 0) {
      if (record.seq === 1 && record.prev !== GENESIS_MAC) {
        return fail(
          at,
          'inserted',
          1,
          'the first record does not start a chain (prev is not the genesis value)',
        );
      }
      if (record.seq > 1) {
        unproven = { seq: record.seq, prev: record.prev, file: at.file, line: at.line };
      }
    } else if (record.seq > expected) {
      const found = await findSeq(next, expected, record.seq - 1);
      if (found !== undefined) {
        return fail(
          at,
          'reordered',
          expected,
          `seq ${expected} is out of place: this line holds seq ${record.seq}, and seq ${found.seq} comes later (${basename(found.file)} line ${found.line})`,
        );
      }
      return fail(
        at,
        'deleted',
        expected,
        `${range(expected, record.seq - 1)} missing: seq ${record.seq} follows seq ${expected - 1}`,
      );
    } else if (record.seq < expected) {
      if (continues(await next())) {
        return fail(
          at,
          'inserted',
          record.seq,
          `a second copy of seq ${record.seq} was inserted after seq ${expected - 1}`,
        );
      }
      return fail(
        at,
        'reordered',
        record.seq,
        `seq ${record.seq} is out of place: it follows seq ${expected - 1}`,
      );
    } else if (record.prev !== prevMac) {
      return fail(
        at,
        'inserted',
        record.seq,
        `the record is valid but does not follow seq ${expected - 1} (its prev differs): it comes from another chain`,
      );
    }
    records += 1;
    lastLine = at;
    if (record.seq === anchor?.seq) anchoredMac = record.mac;
    if (records === 1) firstSeq = record.seq;
    lastSeq = record.seq;
    prevMac = record.mac;
    expected = record.seq + 1;
    if (record.event === 'audit.retention' && Number.isSafeInteger(record.removedThroughSeq)) {
      const through = record.removedThroughSeq as number;
      removedThrough = Math.max(removedThrough, through);
      if (
        unproven !== undefined &&
        through === unproven.seq - 1 &&
        record.lastRemovedMac === unproven.prev
      ) {
        unproven = undefined;
      }
    }
  }

  if (unproven !== undefined) {
    const at = { file: unproven.file, line: unproven.line, text: '', terminated: true };
    if (removedThrough >= unproven.seq - 1) {
      return fail(
        at,
        'deleted',
        unproven.seq,
        `the first record does not continue from the last record retention removed (seq ${removedThrough})`,
      );
    }
    return fail(
      at,
      'deleted',
      removedThrough + 1,
      `${range(removedThrough + 1, unproven.seq - 1)} missing before the first record, and no retention record accounts for them`,
    );
  }
  if (anchor !== undefined) {
    const end = lastLine ?? {
      file: files.at(-1)?.path ?? dir,
      line: 1,
      text: '',
      terminated: true,
    };
    if (anchor.seq > lastSeq) {
      return fail(
        { ...end, line: lastLine === undefined ? 1 : end.line + 1 },
        'truncated',
        lastSeq + 1,
        `${range(lastSeq + 1, anchor.seq)} missing from the end of the log: the anchor says seq ${anchor.seq} was written (${anchor.time})`,
      );
    }
    if (anchor.seq >= firstSeq && anchoredMac !== anchor.mac) {
      return fail(
        end,
        'anchor-mismatch',
        anchor.seq,
        `the record at seq ${anchor.seq} is not the one the anchor saw: the log was replaced or re-chained`,
      );
    }
  }
  return { ok: true, records, files: files.length, firstSeq, lastSeq };
}

function range(from: number, to: number): string {
  return from === to ? `record seq ${from} is` : `records seq ${from}..${to} are`;
}

async function findSeq(
  next: () => Promise<LogLine | undefined>,
  from: number,
  to: number,
): Promise<{ seq: number; file: string; line: number } | undefined> {
  for (let i = 0; i < LOOKAHEAD_LINES; i++) {
    const line = await next();
    if (line === undefined) return undefined;
    const record = parseAuditLine(line.text);
    if (record !== undefined && record.seq >= from && record.seq <= to) {
      return { seq: record.seq, file: line.file, line: line.line };
    }
  }
  return undefined;
}

/** All lines of the files in order; a file removed meanwhile (retention) is skipped. */
async function* logLines(files: readonly AuditFile[]): AsyncGenerator<LogLine, void, undefined> {
  for (const file of files) {
    try {
      for await (const batch of readLineBatches(file.path)) {
        for (const line of batch) {
          yield { file: file.path, line: line.line, text: line.text, terminated: line.terminated };
        }
      }
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    }
  }
}
