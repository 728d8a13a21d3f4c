import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAuditLine, type SealedAuditRecord } from './audit-record.js';

/** One file of the audit log: `audit-YYYYMMDDTHHMMSSZ-<seq of its first record>.jsonl`. */
export interface AuditFile {
  readonly name: string;
  readonly path: string;
  /** The seq of the file's first record, from its name. */
  readonly firstSeq: number;
  /** When the file was started (UTC, from its name), in ms since the epoch. */
  readonly startedAt: number;
}

const FILE_NAME = /^audit-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-(\d{1,15})\.jsonl$/;

export function auditFileName(time: number, firstSeq: number): string {
  const stamp = new Date(time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `audit-${stamp}-${firstSeq}.jsonl`;
}

export function parseAuditFileName(
  name: string,
): { readonly firstSeq: number; readonly startedAt: number } | undefined {
  const m = FILE_NAME.exec(name);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, seq] = m.map(Number) as number[];
  const startedAt = Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s);
  const firstSeq = seq ?? 0;
  if (!Number.isFinite(startedAt) || firstSeq < 1) return undefined;
  return { firstSeq, startedAt };
}

/**
 * The audit files of a directory in chain order (by the seq of their first
 * record, then by name); other files are ignored. A missing directory has none.
 */
export async function listAuditFiles(dir: string): Promise<AuditFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw cause;
  }
  const files: AuditFile[] = [];
  for (const name of names) {
    const parsed = parseAuditFileName(name);
    if (parsed !== undefined) files.push({ name, path: join(dir, name), ...parsed });
  }
  return files.sort((a, b) =>
    a.firstSeq !== b.firstSeq ? a.firstSeq - b.firstSeq : a.name < b.name ? -1 : 1,
  );
}

/** One line of a file, without its newline. */
export interface FileLine {
  readonly text: string;
  /** 1-based line number within the file. */
  readonly line: number;
  /** False for a last line without a newline: a torn write (or one still under way). */
  readonly terminated: boolean;
  /** Byte offset just past the line (and its newline). */
  readonly end: number;
}

/**
 * Streams the lines of a file from byte `start`, in batches (one per read),
 * so a day of records is read in constant memory.
 */
export async function* readLineBatches(
  path: string,
  start = 0,
): AsyncGenerator<readonly FileLine[], void, undefined> {
  const stream = createReadStream(path, { start, highWaterMark: 1 << 20 });
  let rest: Buffer | undefined;
  let lineNo = 0;
  let offset = start;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    const batch: FileLine[] = [];
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl !== -1; nl = buf.indexOf(10, from)) {
      offset += nl + 1 - from;
      lineNo += 1;
      batch.push({
        text: buf.toString('utf8', from, nl),
        line: lineNo,
        terminated: true,
        end: offset,
      });
      from = nl + 1;
    }
    rest = from < buf.length ? buf.subarray(from) : undefined;
    if (batch.length > 0) yield batch;
  }
  if (rest !== undefined) {
    yield [
      {
        text: rest.toString('utf8'),
        line: lineNo + 1,
        terminated: false,
        end: offset + rest.length,
      },
    ];
  }
}

/** The end of a file: its size, where its last complete line ends, and its last complete lines. */
export interface FileTail {
  readonly size: number;
  /** Byte offset just past the last newline (0 if there is none). */
  readonly completeEnd: number;
  /** Up to the requested number of complete lines, oldest first. */
  readonly lines: readonly string[];
  /** True when `lines` starts at the beginning of the file. */
  readonly wholeFile: boolean;
}

/** Reads the last `count` complete lines of a file, backwards in 64 KiB steps. */
export async function readFileTail(path: string, count: number): Promise<FileTail> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const chunks: Buffer[] = [];
    let position = size;
    let newlines = 0;
    while (position > 0 && newlines <= count) {
      const length = Math.min(65_536, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, position);
      const got = chunk.subarray(0, bytesRead);
      for (const byte of got) if (byte === 10) newlines += 1;
      chunks.unshift(got);
    }
    const data = Buffer.concat(chunks);
    const lastNewline = data.lastIndexOf(10);
    const completeEnd = lastNewline === -1 ? position : position + lastNewline + 1;
    if (lastNewline === -1) return { size, completeEnd: 0, lines: [], wholeFile: position === 0 };
    const parts = data.toString('utf8', 0, lastNewline).split('\n');
    // parts[0] is partial unless the data starts at the beginning of the file.
    const complete = position === 0 ? parts : parts.slice(1);
    const lines = complete.slice(-count);
    return {
      size,
      completeEnd,
      lines,
      wholeFile: position === 0 && lines.length === complete.length,
    };
  } finally {
    await handle.close();
  }
}

/** The last parsable record of a file and where the file's complete lines end. */
export interface LastRecord {
  readonly record: SealedAuditRecord | undefined;
  /** The record's line as written (without its newline); '' when there is no record. */
  readonly line: string;
  /** True when the record is on the file's last complete line. */
  readonly onLastLine: boolean;
  readonly size: number;
  readonly completeEnd: number;
}

/** Finds the last record of a file that parses, looking further back only when the end is damaged. */
export async function readLastRecord(path: string): Promise<LastRecord> {
  const tail = await readFileTail(path, 8);
  for (let i = tail.lines.length - 1; i >= 0; i--) {
    const line = tail.lines[i] ?? '';
    const record = parseAuditLine(line);
    if (record !== undefined) {
      return {
        record,
        line,
        onLastLine: i === tail.lines.length - 1,
        size: tail.size,
        completeEnd: tail.completeEnd,
      };
    }
  }
  let found: SealedAuditRecord | undefined;
  let foundLine = '';
  if (!tail.wholeFile) {
    for await (const batch of readLineBatches(path)) {
      for (const line of batch) {
        if (!line.terminated) continue;
        const record = parseAuditLine(line.text);
        if (record !== undefined) {
          found = record;
          foundLine = line.text;
        }
      }
    }
  }
  return {
    record: found,
    line: foundLine,
    onLastLine: false,
    size: tail.size,
    completeEnd: tail.completeEnd,
  };
}
