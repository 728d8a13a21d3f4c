import { existsSync } from 'node:fs';
import { chmod, type FileHandle, mkdir, open, truncate, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PgwardenError } from '../../errors.js';
import { AnchorFile, readAnchor } from './audit-anchor.js';
import { auditFileName, listAuditFiles, readLastRecord } from './audit-files.js';
import { loadOrCreateAuditKey } from './audit-key.js';
import {
  AUDIT_LOG_EVENTS,
  type AuditEvent,
  GENESIS_MAC,
  lineSealedBy,
  type SealedAuditRecord,
  sealLine,
} from './audit-record.js';

const MIB = 1024 * 1024;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** One write call carries at most this much; a larger backlog takes several. */
const MAX_WRITE_BYTES = 8 * MIB;

export interface AuditWriterOptions {
  /** The log directory (created with mode 0700). */
  readonly dir: string;
  /** The HMAC key file, outside `dir`; created on first use (see loadOrCreateAuditKey). */
  readonly keyFile: string;
  /** The anchor (see audit-anchor.ts); default `audit.anchor` beside the key. */
  readonly anchorFile?: string | undefined;
  /** Start a new file before one would grow past this (default 64 MiB). */
  readonly maxFileBytes?: number | undefined;
  /** Start a new file once one is this old (default 24 h). */
  readonly maxFileAgeMs?: number | undefined;
  /** Remove files whose newest record is older than this (default 30; Infinity keeps all). */
  readonly retentionDays?: number | undefined;
  /** fsync each batch, and let `append` resolve only once its record is on disk (default false). */
  readonly durable?: boolean | undefined;
  /**
   * In the default (non-durable) mode, how long records may gather before a
   * write (default 10 ms): one write per batch instead of one per record, which
   * is what keeps audit cheap when statements trickle in one at a time.
   */
  readonly batchDelayMs?: number | undefined;
  /**
   * Told about every disk problem (PGW_AUDIT_WRITE_FAILED); the writer keeps
   * going and retries. Defaults to process.emitWarning. Must not throw.
   */
  readonly onError?: ((error: PgwardenError) => void) | undefined;
  /** Events waiting for the disk beyond this many are dropped and counted (default 100 000). */
  readonly maxPendingRecords?: number | undefined;
  /** Wait between attempts while the disk fails (default 1000 ms). */
  readonly retryDelayMs?: number | undefined;
  /** The clock (ms since the epoch); for tests. */
  readonly now?: (() => number) | undefined;
}

interface Pending {
  /** The event as appended; sealed (given seq, prev and mac) only when a batch is written. */
  raw: AuditEvent | undefined;
  /** The record's time, taken when it was appended. */
  readonly time: string;
  line: string;
  bytes: number;
  seq: number;
  mac: string;
  /** Called with true once written (and fsync'ed in durable mode), false if given up. */
  done: ((written: boolean) => void) | undefined;
}

interface OpenFile {
  readonly path: string;
  readonly handle: FileHandle;
  size: number;
  readonly startedAt: number;
  /** Written since the last fsync. */
  dirty: boolean;
}

/** A file the chain was resumed from, reopened for appending on the first write. */
interface ResumableFile {
  readonly path: string;
  readonly size: number;
  readonly startedAt: number;
}

class PartialWrite extends Error {
  constructor(
    readonly written: number,
    override readonly cause: unknown,
  ) {
    super('partial write');
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Members the writer sets itself. */
const RESERVED = new Set(['seq', 'time', 'code', 'event', 'prev', 'mac']);

/**
 * The tamper-evident audit log's writer. Each record carries `seq` (1, 2, 3,
 * … across all files, never reset), `prev` (the previous record's MAC) and
 * `mac` = base64url(HMAC-SHA-256(key, the line's JSON without `mac`)) (see
 * sealLine), so `verifyAuditLog` proves the files are complete and unaltered.
 *
 * `append` is synchronous as far as the chain is concerned: it assigns seq,
 * prev and mac at once, in call order, and queues the line. Lines are written
 * in batches, one write per batch, one batch after another. Disk errors never
 * reach the caller: they go to `onError`, and the batch is retried until it is
 * written.
 *
 * Files are `audit-YYYYMMDDTHHMMSSZ-<first seq>.jsonl` (mode 0600), started anew
 * by size and age. Opening resumes the chain from the newest file's last
 * record, cutting off a line torn by a crash. Retention removes the oldest
 * files whose newest record is older than `retentionDays`, after appending an
 * `audit.retention` record (code 9001) naming the last removed seq and MAC, so
 * the remaining chain still verifies.
 *
 * Only one writer may use a directory at a time.
 */
export class AuditWriter {
  private readonly dir: string;
  private readonly key: Buffer;
  private readonly maxFileBytes: number;
  private readonly maxFileAgeMs: number;
  private readonly retentionDays: number;
  /** Records appended but not sealed yet (sealing happens when their batch is written). */
  private unsealed = 0;
  private readonly durable: boolean;
  private readonly batchDelayMs: number;
  private readonly onError: (error: PgwardenError) => void;
  private readonly maxPending: number;
  private readonly retryDelayMs: number;
  private readonly now: () => number;

  private seq = 0;
  private lastMac = GENESIS_MAC;
  private queue: Pending[] = [];
  private current: OpenFile | undefined;
  private resumable: ResumableFile | undefined;
  private draining: Promise<void> | undefined;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failing = false;
  private dropped: { count: number; since: string; until: string } | undefined;
  private retention: Promise<void> | undefined;
  private retentionDue = false;
  private closing: Promise<void> | undefined;
  private anchor: AnchorFile | undefined;

  private constructor(options: AuditWriterOptions, key: Buffer) {
    this.dir = resolve(options.dir);
    this.key = key;
    this.maxFileBytes = positive(options.maxFileBytes, 64 * MIB, 'maxFileBytes');
    this.maxFileAgeMs = positive(options.maxFileAgeMs, DAY_MS, 'maxFileAgeMs');
    this.retentionDays = positive(options.retentionDays, 30, 'retentionDays');
    this.durable = options.durable ?? false;
    this.batchDelayMs = this.durable ? 0 : (options.batchDelayMs ?? 10);
    const onError = options.onError ?? defaultOnError;
    this.onError = (error) => {
      try {
        onError(error);
      } catch {
        // A failing reporter must not take the writer down either.
      }
    };
    this.maxPending = positive(options.maxPendingRecords, 100_000, 'maxPendingRecords');
    this.retryDelayMs = positive(options.retryDelayMs, 1000, 'retryDelayMs');
    this.now = options.now ?? Date.now;
  }

  /**
   * Loads (or creates) the key and resumes the chain. Throws PgwardenError
   * PGW_AUDIT_KEY_INVALID for a bad key, or a missing key while the log has
   * records (a new key would make them unverifiable), and
   * PGW_AUDIT_WRITE_FAILED when an existing log cannot be read. A directory
   * that cannot be created is only reported through onError.
   */
  static async open(options: AuditWriterOptions): Promise<AuditWriter> {
    const dir = resolve(options.dir);
    let files: Awaited<ReturnType<typeof listAuditFiles>>;
    try {
      files = await listAuditFiles(dir);
    } catch (cause) {
      throw writeFailed(`cannot read the audit log directory ${dir}`, cause);
    }
    if (files.length > 0 && !existsSync(options.keyFile)) {
      throw new PgwardenError(
        'PGW_AUDIT_KEY_INVALID',
        `the audit key ${options.keyFile} is missing, but ${dir} holds an audit log`,
        {
          hint: 'restore the key from a backup, or move the old audit log aside to start a new chain',
        },
      );
    }
    const writer = new AuditWriter(options, loadOrCreateAuditKey(options.keyFile));
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    } catch (cause) {
      writer.onError(writeFailed(`cannot create the audit log directory ${dir}`, cause));
    }
    await writer.resume(files);
    await writer.checkAnchor(options.anchorFile ?? join(dirname(options.keyFile), 'audit.anchor'));
    await writer.runRetention();
    return writer;
  }

  /** The seq of the last record appended (0 before the first). */
  get lastSeq(): number {
    return this.seq + this.unsealed;
  }

  /** False while the disk fails (events are queued and retried) or events are being dropped. */
  get healthy(): boolean {
    return !this.failing && this.dropped === undefined;
  }

  /**
   * Seals the event as the next record of the chain and queues it. Never
   * throws and never rejects. In default mode the promise is already resolved
   * and says nothing about the disk: the gateway must not await it (call it as
   * `void writer.append(...)`); the record is written with the next batch. In
   * durable mode it resolves once the batch holding the record was written and
   * fsync'ed (one fsync per batch), or once the writer gave up on it (closed
   * with the disk failing; reported through onError). While the disk fails,
   * events beyond maxPendingRecords are not sealed but counted, and an
   * `audit.dropped` record (code 9002) with the count joins the chain once the
   * disk recovers.
   *
   * `seq`, `prev` and `mac` of the event are ignored; `time` is kept when it is
   * a string, else set to now. Values should be plain JSON (strings, numbers,
   * booleans, null, arrays, objects).
   */
  append(event: AuditEvent): Promise<void> {
    if (this.closing !== undefined) {
      this.onError(writeFailed(`the audit writer is closed; event ${event.event} is lost`));
      return RESOLVED;
    }
    return this.enqueue(event, this.durable) ?? RESOLVED;
  }

  /**
   * Resolves once every record appended so far is written (fsync'ed in
   * durable mode), or once an attempt failed (reported through onError; the
   * writer keeps retrying in the background).
   */
  async flush(): Promise<void> {
    this.cancelRetry();
    while (this.queue.length > 0 || this.draining !== undefined) {
      await this.startDrain();
      if (this.failing) return;
    }
  }

  /**
   * Applies retention now (it also runs on open and after each rotation);
   * resolves when done. Errors go to onError.
   */
  enforceRetention(): Promise<void> {
    return this.runRetention();
  }

  /** Flushes, then closes the file. Records that still cannot be written are reported lost. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.retention;
    await this.flush();
    this.cancelRetry();
    if (this.queue.length > 0) {
      const lost = this.queue;
      this.queue = [];
      this.onError(
        writeFailed(
          `closing with ${lost.length} audit records unwritten (seq ${lost[0]?.seq}..${lost.at(-1)?.seq})`,
        ),
      );
      for (const entry of lost) entry.done?.(false);
    }
    if (this.current !== undefined) await this.retire(this.current);
    await this.anchor?.close();
  }

  /**
   * Compares the resumed chain with the anchor: a log that ends before the
   * anchor lost its tail, and that loss joins the chain as a record, so
   * continuing the log cannot hide it. Then takes the anchor over.
   */
  private async checkAnchor(file: string): Promise<void> {
    try {
      const anchor = await readAnchor(file, this.key);
      if (anchor === 'invalid') {
        this.onError(
          writeFailed(`the audit anchor ${file} does not verify; run pgwarden audit verify`),
        );
        void this.append({
          code: AUDIT_LOG_EVENTS['audit.anchor-invalid'],
          event: 'audit.anchor-invalid',
        });
      } else if (anchor !== undefined && anchor.seq > this.lastSeq) {
        this.onError(
          writeFailed(
            `the audit log ends at seq ${this.lastSeq}, but the anchor says seq ${anchor.seq} was written (${anchor.time}): records were cut off or lost`,
          ),
        );
        void this.append({
          code: AUDIT_LOG_EVENTS['audit.tail-missing'],
          event: 'audit.tail-missing',
          anchorSeq: anchor.seq,
          anchorTime: anchor.time,
          lastSeq: this.lastSeq,
        });
      }
      this.anchor = await AnchorFile.open(file, this.key, (cause) =>
        this.onError(writeFailed('cannot update the audit anchor', cause)),
      );
    } catch (cause) {
      this.onError(
        writeFailed(`cannot use the audit anchor ${file}; a cut-off tail will go unnoticed`, cause),
      );
    }
  }

  /**
   * The anchor follows each written batch. It is not fsync'ed: in durable mode
   * the log is, so the anchor never leads it; otherwise a power loss can take
   * records the anchor saw, and verify reports them missing, which they are.
   */
  private moveAnchor(last: Pending): void {
    this.anchor?.update({ seq: last.seq, mac: last.mac, time: last.time });
  }

  /** Seals and queues; returns a completion promise when asked for one. */
  private enqueue(event: AuditEvent, wait: boolean): Promise<void> | undefined {
    if (this.queue.length >= this.maxPending) {
      this.noteDropped();
      return undefined;
    }
    // Sealing (JSON and HMAC) waits for the batch: append stays cheap on the relay's path.
    const entry = this.pending(event);
    const promise = wait
      ? new Promise<void>((done) => {
          entry.done = () => done();
        })
      : undefined;
    this.queue.push(entry);
    this.schedule();
    return promise;
  }

  private pending(event: AuditEvent): Pending {
    this.unsealed++;
    const time = typeof event.time === 'string' ? event.time : new Date(this.now()).toISOString();
    return { raw: event, time, line: '', bytes: 0, seq: 0, mac: '', done: undefined };
  }

  /** Seals every queued record not sealed yet, in queue order; drops (and reports) any that cannot be. */
  private sealQueue(): void {
    for (let i = 0; i < this.queue.length; i++) {
      const entry = this.queue[i] as Pending;
      if (entry.raw === undefined) continue;
      this.unsealed--;
      if (!this.seal(entry)) {
        this.queue.splice(i, 1);
        entry.done?.(false);
        i--;
      }
    }
  }

  private seal(entry: Pending): boolean {
    const event = entry.raw as AuditEvent;
    const seq = this.seq + 1;
    let sealed: { line: string; mac: string };
    try {
      sealed = sealLine(this.key, this.recordJson(seq, entry.time, event));
    } catch (cause) {
      this.onError(
        new PgwardenError(
          'PGW_AUDIT_WRITE_FAILED',
          `audit event ${String(event.event)} cannot be written as JSON and is lost`,
          { hint: 'this is a bug in the caller; please report it', cause },
        ),
      );
      return false;
    }
    this.seq = seq;
    this.lastMac = sealed.mac;
    entry.raw = undefined;
    entry.line = `${sealed.line}\n`;
    entry.bytes = Buffer.byteLength(entry.line);
    entry.seq = seq;
    entry.mac = sealed.mac;
    return true;
  }

  /** The record's JSON without `mac`: seq and time first, then the event's members, then prev. */
  private recordJson(seq: number, time: string, event: AuditEvent): string {
    const head = `{"seq":${seq},"time":${JSON.stringify(time)}`;
    const tail = `"prev":"${this.lastMac}"}`;
    if (!('seq' in event || 'time' in event || 'prev' in event || 'mac' in event)) {
      // The common case, in one native call: the event's own members, in its order.
      const body = JSON.stringify(event);
      return body === '{}' ? `${head},${tail}` : `${head},${body.slice(1, -1)},${tail}`;
    }
    const record: Record<string, unknown> = { code: event.code, event: event.event };
    for (const name in event) {
      if (!Object.hasOwn(event, name) || RESERVED.has(name)) continue;
      if (name === '__proto__') {
        // Defined, not assigned: a member named __proto__ stays a member.
        Object.defineProperty(record, name, {
          value: event[name],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        record[name] = event[name];
      }
    }
    return `${head},${JSON.stringify(record).slice(1, -1)},${tail}`;
  }
  private noteDropped(): void {
    const time = new Date(this.now()).toISOString();
    if (this.dropped === undefined) {
      this.dropped = { count: 0, since: time, until: time };
      this.onError(
        writeFailed(
          `${this.maxPending} audit records wait for the disk; further events are dropped and counted until it recovers`,
        ),
      );
    }
    this.dropped.count += 1;
    this.dropped.until = time;
  }

  private schedule(): void {
    if (this.scheduled || this.draining !== undefined || this.retryTimer !== undefined) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      if (this.retryTimer === undefined) void this.startDrain();
    };
    if (this.batchDelayMs === 0) setImmediate(run);
    else setTimeout(run, this.batchDelayMs).unref();
  }

  private startDrain(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0 && !this.failing) this.schedule();
    });
    return this.draining;
  }

  private cancelRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      this.sealQueue();
      if (this.queue.length === 0) break;
      let bytes = 0;
      let count = 0;
      while (count < this.queue.length && (count === 0 || bytes < MAX_WRITE_BYTES)) {
        bytes += (this.queue[count] as Pending).bytes;
        count += 1;
      }
      const batch = this.queue.splice(0, count);
      const written = await this.writeBatch(batch);
      for (let i = 0; i < written; i++) batch[i]?.done?.(true);
      if (written > 0) this.moveAnchor(batch[written - 1] as Pending);
      if (written < batch.length) {
        this.queue = batch.slice(written).concat(this.queue);
        this.failing = true;
        this.cancelRetry();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.startDrain();
        }, this.retryDelayMs);
        this.retryTimer.unref();
        return;
      }
      this.failing = false;
      if (this.dropped !== undefined && this.queue.length < this.maxPending) {
        const { count: lost, since, until } = this.dropped;
        this.dropped = undefined;
        this.enqueue(
          {
            code: AUDIT_LOG_EVENTS['audit.dropped'],
            event: 'audit.dropped',
            count: lost,
            since,
            until,
          },
          false,
        );
      }
    }
    if (this.retentionDue && this.closing === undefined) {
      this.retentionDue = false;
      void this.runRetention();
    }
  }

  /** Writes a batch; returns how many of its records are written (all, unless the disk failed). */
  private async writeBatch(batch: readonly Pending[]): Promise<number> {
    let done = 0;
    try {
      while (done < batch.length) {
        const file = await this.fileFor(batch[done] as Pending);
        let end = done;
        let bytes = 0;
        while (end < batch.length) {
          const size = (batch[end] as Pending).bytes;
          if (end > done && file.size + bytes + size > this.maxFileBytes) break;
          bytes += size;
          end += 1;
        }
        try {
          await this.writeChunk(file, batch, done, end);
        } catch (error) {
          if (error instanceof PartialWrite) done += error.written;
          throw error instanceof PartialWrite ? error.cause : error;
        }
        done = end;
      }
      if (this.durable && this.current?.dirty === true) {
        await this.current.handle.datasync();
        this.current.dirty = false;
      }
    } catch (cause) {
      this.onError(
        writeFailed(
          done === batch.length
            ? `cannot fsync the audit log in ${this.dir}; the last records may not be on disk`
            : `cannot write the audit log in ${this.dir}; ${batch.length - done} records wait for a retry`,
          cause,
        ),
      );
    }
    return done;
  }

  /**
   * Appends records [from, to) of the batch in one write. On failure the file is
   * cut back to the last whole record; if that fails too, the file is given up
   * (its torn last line is ignored by readers) and the next write starts a new one.
   */
  private async writeChunk(
    file: OpenFile,
    batch: readonly Pending[],
    from: number,
    to: number,
  ): Promise<void> {
    let text = '';
    for (let i = from; i < to; i++) text += (batch[i] as Pending).line;
    const buffer = Buffer.from(text, 'utf8');
    let offset = 0;
    try {
      while (offset < buffer.length) {
        const { bytesWritten } = await file.handle.write(buffer, offset, buffer.length - offset);
        offset += bytesWritten;
      }
      file.size += buffer.length;
      file.dirty = true;
    } catch (cause) {
      let whole = 0;
      let wholeBytes = 0;
      while (from + whole < to && wholeBytes + (batch[from + whole] as Pending).bytes <= offset) {
        wholeBytes += (batch[from + whole] as Pending).bytes;
        whole += 1;
      }
      try {
        await file.handle.truncate(file.size + wholeBytes);
        file.size += wholeBytes;
        if (wholeBytes > 0) file.dirty = true;
      } catch {
        await this.retire(file);
      }
      throw new PartialWrite(whole, cause);
    }
  }

  /** The file the record goes into: the current one, or a new one when it is too big or too old. */
  private async fileFor(first: Pending): Promise<OpenFile> {
    const now = this.now();
    let file = this.current ?? (await this.reopenResumable());
    if (
      file !== undefined &&
      (now - file.startedAt >= this.maxFileAgeMs ||
        (file.size > 0 && file.size + first.bytes > this.maxFileBytes))
    ) {
      await this.retire(file);
      file = undefined;
      this.retentionDue = true;
    }
    file ??= await this.createFile(first.seq, now);
    this.current = file;
    return file;
  }

  private async reopenResumable(): Promise<OpenFile | undefined> {
    const resumable = this.resumable;
    if (resumable === undefined) return undefined;
    this.resumable = undefined;
    try {
      const handle = await open(resumable.path, 'a');
      return { ...resumable, handle, dirty: false };
    } catch (cause) {
      this.onError(writeFailed(`cannot reopen ${resumable.path}; starting a new file`, cause));
      return undefined;
    }
  }

  private async createFile(firstSeq: number, now: number): Promise<OpenFile> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (let attempt = 0; ; attempt++) {
      // A name is taken only if an earlier attempt at this seq failed; move the time on.
      const path = join(this.dir, auditFileName(now + attempt * 1000, firstSeq));
      try {
        const handle = await open(path, 'ax', 0o600);
        if (this.durable) await this.syncDir();
        return { path, handle, size: 0, startedAt: now, dirty: false };
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 100) throw cause;
      }
    }
  }

  /** Closes a file (fsync'ed first in durable mode); errors are reported, not thrown. */
  private async retire(file: OpenFile): Promise<void> {
    if (this.current === file) this.current = undefined;
    try {
      if (this.durable && file.dirty) await file.handle.datasync();
    } catch (cause) {
      this.onError(writeFailed(`cannot fsync ${file.path}`, cause));
    }
    try {
      await file.handle.close();
    } catch {
      // Closing cannot lose written data.
    }
  }

  private async syncDir(): Promise<void> {
    try {
      const handle = await open(this.dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (cause) {
      this.onError(writeFailed(`cannot fsync the directory ${this.dir}`, cause));
    }
  }

  /**
   * Resumes the chain from the newest file's last record. A torn last line (a
   * crash mid-write) is cut off; an empty newest file is removed. A newest file
   * whose end is damaged is left for `verify` to report, and new records go to
   * a new file.
   */
  private async resume(files: readonly { path: string; startedAt: number }[]): Promise<void> {
    for (let i = files.length - 1; i >= 0; i--) {
      const file = files[i] as { path: string; startedAt: number };
      let last: Awaited<ReturnType<typeof readLastRecord>>;
      try {
        last = await readLastRecord(file.path);
      } catch (cause) {
        throw writeFailed(`cannot read the audit file ${file.path}`, cause);
      }
      let clean = last.record !== undefined && last.onLastLine;
      if (i === files.length - 1 && last.completeEnd < last.size) {
        try {
          await truncate(file.path, last.completeEnd);
        } catch (cause) {
          clean = false;
          this.onError(writeFailed(`cannot cut the torn last line off ${file.path}`, cause));
        }
      }
      if (last.record === undefined) {
        if (last.completeEnd === 0 && i === files.length - 1) {
          await unlink(file.path).catch(() => undefined);
        } else {
          this.onError(
            writeFailed(
              `${file.path} holds no readable record at its end; run pgwarden audit verify`,
            ),
          );
        }
        continue;
      }
      const record: SealedAuditRecord = last.record;
      if (!lineSealedBy(this.key, last.line, record)) {
        clean = false;
        this.onError(
          writeFailed(
            `the last audit record (seq ${record.seq} in ${file.path}) does not verify with the key; run pgwarden audit verify`,
          ),
        );
      } else if (!last.onLastLine) {
        this.onError(
          writeFailed(
            `${file.path} ends with lines that are not audit records; run pgwarden audit verify`,
          ),
        );
      }
      this.seq = record.seq;
      this.lastMac = record.mac;
      if (clean && i === files.length - 1) {
        this.resumable = { path: file.path, size: last.completeEnd, startedAt: file.startedAt };
      }
      return;
    }
  }

  private runRetention(): Promise<void> {
    this.retention ??= this.applyRetention()
      .catch((cause: unknown) => this.onError(writeFailed('audit log retention failed', cause)))
      .finally(() => {
        this.retention = undefined;
      });
    return this.retention;
  }

  /**
   * Removes the oldest files whose newest record is older than retentionDays
   * (never the file being written). The `audit.retention` record is written
   * first, so a crash in between leaves no unexplained gap.
   */
  private async applyRetention(): Promise<void> {
    if (!Number.isFinite(this.retentionDays)) return;
    const cutoff = this.now() - this.retentionDays * DAY_MS;
    const files = await listAuditFiles(this.dir);
    const doomed: string[] = [];
    let lastRemoved: SealedAuditRecord | undefined;
    for (const file of files.slice(0, -1)) {
      if (file.path === this.current?.path || file.path === this.resumable?.path) break;
      const last = await readLastRecord(file.path);
      if (last.record === undefined || !last.onLastLine) break;
      const time = Date.parse(String(last.record.time));
      if (!Number.isFinite(time) || time >= cutoff) break;
      doomed.push(file.path);
      lastRemoved = last.record;
    }
    if (lastRemoved === undefined) return;
    const written = await new Promise<boolean>((done) => {
      const entry = this.pending({
        code: AUDIT_LOG_EVENTS['audit.retention'],
        event: 'audit.retention',
        removedThroughSeq: lastRemoved.seq,
        lastRemovedMac: lastRemoved.mac,
        files: doomed.map((path) => basename(path)),
      });
      entry.done = done;
      this.queue.push(entry);
      void this.flush().then(() => {
        // Still queued: the disk failed; the record is written later, and the files stay for now.
        if (this.queue.includes(entry)) done(false);
      });
    });
    if (!written) return;
    for (const path of doomed) {
      try {
        await unlink(path);
      } catch (cause) {
        this.onError(writeFailed(`cannot remove the expired audit file ${path}`, cause));
      }
    }
    if (this.durable) await this.syncDir();
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new TypeError(`AuditWriter: ${name} must be positive, got ${value}`);
  return value;
}

function writeFailed(message: string, cause?: unknown): PgwardenError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new PgwardenError('PGW_AUDIT_WRITE_FAILED', code ? `${message} (${code})` : message, {
    hint: 'free disk space or fix the permissions of the audit log directory; pgwarden keeps retrying',
    ...(cause === undefined ? {} : { cause }),
  });
}

function defaultOnError(error: PgwardenError): void {
  process.emitWarning(error.message, { code: error.code });
}
