import type { BigIntStats, Stats } from 'node:fs';
import { constants } from 'node:fs';
import {
  access,
  chmod,
  chown,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { type AuditFile, listAuditFiles, readLineBatches } from './audit-files.js';
import {
  ANCHOR_BYTES,
  anchorHash,
  blockFilter,
  blockSignatures,
  DEFAULT_INDEX_PARAMS,
  type IndexBlock,
  IndexBuilder,
  type IndexHeader,
  type IndexParams,
  type LineMask,
  lineMask,
  lineMayMatch,
  parseIndex,
  serializeIndex,
} from './audit-index.js';
import { type AuditFilter, auditFilter, timeOf } from './audit-reader.js';
import { parseAuditLine, type SealedAuditRecord } from './audit-record.js';

/** What a search did; counters are added to, so one object can sum several searches. */
export interface AuditSearchStats {
  /** Audit files searched. */
  files: number;
  /** Files whose index was used. */
  indexedFiles: number;
  /** Indexes present but not used: corrupt, stale, of another layout, or not trusted. */
  rejectedIndexes: number;
  /** Indexes written (new, rebuilt or extended). */
  writtenIndexes: number;
  /** Indexed blocks looked at, and those read because they may hold a match. */
  blocks: number;
  blocksRead: number;
  /** Lines parsed: in blocks read, and in the parts of files no index covers. */
  linesParsed: number;
}

export function emptySearchStats(): AuditSearchStats {
  return {
    files: 0,
    indexedFiles: 0,
    rejectedIndexes: 0,
    writtenIndexes: 0,
    blocks: 0,
    blocksRead: 0,
    linesParsed: 0,
  };
}

export interface AuditSearchOptions {
  /** Where the indexes live (default `<dir>/index`). */
  readonly indexDir?: string | undefined;
  /** Use (and build) indexes (default true); false reads every line. */
  readonly useIndex?: boolean | undefined;
  /** Write indexes that are missing, stale or short (default true). */
  readonly writeIndex?: boolean | undefined;
  /** The block layout (tests use small blocks); an index of another layout is rebuilt. */
  readonly params?: Partial<IndexParams> | undefined;
  /** Filled in as the search goes. */
  readonly stats?: AuditSearchStats | undefined;
}

/** The name of a file's index in the index directory. */
export function indexFileName(auditFileName: string): string {
  return `${auditFileName}.idx`;
}

/**
 * The records of the log that match the filter, in order: the same records
 * `readAuditLog` yields, read through per-file indexes (docs/adr/0009). Each
 * file's index says which blocks of lines may hold a match; only those are
 * read, and their records go through the same predicate. What no index covers
 * (a new file, the tail of the file being written, any file whose index is
 * missing, corrupt or stale) is read line by line, and indexed on the way
 * when the index directory is writable. An index is a cache: failing to read
 * or write one never fails the search. It proves nothing about the log's
 * integrity; `verifyAuditLog` does.
 */
export async function* searchAuditLog(
  dir: string,
  filter: AuditFilter = {},
  options: AuditSearchOptions = {},
): AsyncGenerator<SealedAuditRecord, void, undefined> {
  // Fix the time bounds once: the predicate and the block test must agree on them.
  const fixed = {
    ...filter,
    since: filter.since === undefined ? undefined : timeOf(filter.since, 'since'),
    until: filter.until === undefined ? undefined : timeOf(filter.until, 'until'),
  };
  const matches = auditFilter(fixed);
  const test = blockFilter(fixed);
  const mask = lineMask(fixed);
  const stats = options.stats ?? emptySearchStats();
  const params: IndexParams = { ...DEFAULT_INDEX_PARAMS, ...options.params };
  const files = await listAuditFiles(dir);
  const store =
    options.useIndex === false || files.length === 0
      ? undefined
      : await IndexStore.open(
          dir,
          options.indexDir ?? join(dir, 'index'),
          options.writeIndex !== false,
          params,
        );
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as AuditFile;
    stats.files += 1;
    // The writer starts a new file only once it is done with the old one.
    const complete = i < files.length - 1;
    try {
      yield* searchFile(file, complete, { matches, test, mask, stats, store, params });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    }
  }
  await store?.prune(files);
}

interface FileSearch {
  readonly matches: (record: SealedAuditRecord) => boolean;
  readonly test: ((block: IndexBlock) => boolean) | undefined;
  readonly mask: LineMask | undefined;
  readonly stats: AuditSearchStats;
  readonly store: IndexStore | undefined;
  readonly params: IndexParams;
}

async function* searchFile(
  file: AuditFile,
  complete: boolean,
  { matches, test, mask, stats, store, params }: FileSearch,
): AsyncGenerator<SealedAuditRecord, void, undefined> {
  const before = await stat(file.path, { bigint: true });
  let blocks: readonly IndexBlock[] = [];
  let rejected = false;
  if (store !== undefined) {
    const loaded = await store.load(file, before);
    if (loaded === 'rejected') {
      rejected = true;
      stats.rejectedIndexes += 1;
    } else if (loaded !== undefined) {
      blocks = loaded;
      stats.indexedFiles += 1;
    }
  }
  const covered = blocks.length === 0 ? 0 : endOf(blocks.at(-1) as IndexBlock);
  stats.blocks += blocks.length;

  const candidates = test === undefined ? blocks : blocks.filter(test);
  if (candidates.length > 0) {
    const handle = await open(file.path, 'r');
    try {
      for (const block of candidates) {
        stats.blocksRead += 1;
        for (const text of await blockLines(handle, block, mask)) {
          stats.linesParsed += 1;
          const record = parseAuditLine(text);
          if (record !== undefined && matches(record)) yield record;
        }
      }
    } finally {
      await handle.close();
    }
  }

  // The rest of the file: read every line, and index whole lines on the way.
  const size = Number(before.size);
  const builder = store?.writable === true ? new IndexBuilder(covered, params) : undefined;
  let indexing = builder !== undefined;
  for await (const batch of readLineBatches(file.path, covered)) {
    stats.linesParsed += batch.length;
    for (const line of batch) {
      const record = parseAuditLine(line.text);
      if (indexing) {
        // Only what was there when the search started, and only whole lines.
        if (line.terminated && line.end <= size) builder?.add(line.end, record);
        else indexing = false;
      }
      if (record !== undefined && matches(record)) yield record;
    }
  }
  // The file being written keeps its last, partial block out of the index.
  const added = builder?.finish(complete) ?? [];
  if (added.length > 0 && store !== undefined) {
    if (await store.save(file, before, [...blocks, ...added])) stats.writtenIndexes += 1;
  } else if (rejected) {
    await store?.discard(file);
  }
}

function endOf(block: IndexBlock): number {
  return block.offset + block.length;
}

/**
 * The lines of a block that may match: all of them without a mask, else those
 * whose signature has the mask's bits. The signatures are used only when the
 * block still has as many lines as indexed, the last one whole.
 */
async function blockLines(
  handle: FileHandle,
  block: IndexBlock,
  mask: LineMask | undefined,
): Promise<string[]> {
  const data = Buffer.allocUnsafe(block.length);
  let got = 0;
  while (got < data.length) {
    const { bytesRead } = await handle.read(data, got, data.length - got, block.offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  const ends: number[] = [];
  for (let nl = data.indexOf(10); nl !== -1 && nl < got; nl = data.indexOf(10, nl + 1)) {
    ends.push(nl);
  }
  const whole = got === data.length && ends.length === block.lines && ends.at(-1) === got - 1;
  if (!whole && (ends.at(-1) ?? -1) < got - 1) ends.push(got); // a changed file: keep the piece
  const signatures = mask !== undefined && whole ? blockSignatures(block) : undefined;
  const lines: string[] = [];
  let from = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    if (signatures === undefined || lineMayMatch(signatures, i, mask as LineMask)) {
      lines.push(data.toString('utf8', from, end));
    }
    from = end + 1;
  }
  return lines;
}

/** Read the first and last up to ANCHOR_BYTES of bytes [0, covered). */
async function anchors(path: string, covered: number): Promise<{ head: string; tail: string }> {
  const handle = await open(path, 'r');
  try {
    const read = async (position: number, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    };
    const length = Math.min(ANCHOR_BYTES, covered);
    const head = anchorHash(await read(0, length));
    const tail = covered <= ANCHOR_BYTES ? head : anchorHash(await read(covered - length, length));
    return { head, tail };
  } finally {
    await handle.close();
  }
}

/** Largest index file read; a day of records needs a few MiB. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
/** Temporary files older than this are left over from a search that died. */
const STALE_TEMP_MS = 3_600_000;

/**
 * The index directory. Indexes are read only from a directory that is not a
 * symlink, not writable by group or others and owned by us, the log's owner
 * or root; files likewise. Every failure to write turns writing off for the
 * rest of the search; nothing here throws.
 */
class IndexStore {
  private constructor(
    private readonly logDir: string,
    private readonly dir: string,
    readonly readable: boolean,
    public writable: boolean,
    private readonly params: IndexParams,
    private readonly trusted: ReadonlySet<number>,
    /** When running as root: who should own what we create (the log's owner). */
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  static async open(
    logDir: string,
    dir: string,
    write: boolean,
    params: IndexParams,
  ): Promise<IndexStore> {
    const none = new IndexStore(logDir, dir, false, false, params, new Set(), undefined);
    const euid = process.geteuid?.() ?? -1;
    let log: Stats;
    try {
      log = await stat(logDir);
    } catch {
      return none;
    }
    const trusted = new Set([euid, log.uid, 0]);
    const owner = euid === 0 && log.uid !== 0 ? { uid: log.uid, gid: log.gid } : undefined;
    let info: Stats | undefined;
    try {
      info = await lstat(dir);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT' || !write) return none;
    }
    if (info === undefined) {
      try {
        await mkdir(dir, { mode: 0o700 });
        await chmod(dir, 0o700);
        if (owner !== undefined) await chown(dir, owner.uid, owner.gid);
        info = await lstat(dir);
      } catch {
        return none;
      }
    }
    if (!info.isDirectory() || (info.mode & 0o022) !== 0 || !trusted.has(info.uid)) return none;
    let writable = write;
    if (writable) {
      try {
        await access(dir, constants.W_OK | constants.X_OK);
      } catch {
        writable = false;
      }
    }
    return new IndexStore(logDir, dir, true, writable, params, trusted, owner);
  }

  private pathOf(file: AuditFile): string {
    return join(this.dir, indexFileName(file.name));
  }

  /**
   * The blocks of the file's index when they still describe it: undefined
   * when there is no index, 'rejected' when there is one that does not do.
   */
  async load(file: AuditFile, now: BigIntStats): Promise<IndexBlock[] | 'rejected' | undefined> {
    if (!this.readable) return undefined;
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(file), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (cause) {
      return (cause as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'rejected';
    }
    try {
      const info = await handle.stat();
      if (
        !info.isFile() ||
        (info.mode & 0o022) !== 0 ||
        !this.trusted.has(info.uid) ||
        info.size > MAX_INDEX_BYTES
      ) {
        return 'rejected';
      }
      const { header, blocks } = parseIndex(await handle.readFile(), this.params);
      if (!(await this.describes(header, file, now))) return 'rejected';
      return blocks;
    } catch {
      return 'rejected';
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * Whether the covered bytes are still those indexed: the same file (name and
   * inode), at least as long, not rewritten in place (same size, other mtime),
   * and the same bytes at both ends of the covered range.
   */
  private async describes(
    header: IndexHeader,
    file: AuditFile,
    now: BigIntStats,
  ): Promise<boolean> {
    const size = Number(now.size);
    if (header.file !== file.name || header.ino !== String(now.ino) || size < header.covered)
      return false;
    if (size === header.size && String(now.mtimeNs) !== header.mtimeNs) return false;
    if (header.covered === 0) return true;
    const { head, tail } = await anchors(file.path, header.covered);
    return head === header.head && tail === header.tail;
  }

  /** Writes the file's index (to a temporary file, then renamed); false if it could not. */
  async save(
    file: AuditFile,
    before: BigIntStats,
    blocks: readonly IndexBlock[],
  ): Promise<boolean> {
    if (!this.writable) return false;
    const covered = endOf(blocks.at(-1) as IndexBlock);
    const temp = join(
      this.dir,
      `.${indexFileName(file.name)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
    );
    let created = false;
    try {
      const { head, tail } = await anchors(file.path, covered);
      const data = serializeIndex(
        {
          file: file.name,
          ino: String(before.ino),
          size: Number(before.size),
          mtimeNs: String(before.mtimeNs),
          covered,
          head,
          tail,
          blockRecords: this.params.blockRecords,
          blockBytes: this.params.blockBytes,
        },
        blocks,
      );
      const handle = await open(temp, 'wx', 0o600);
      created = true;
      try {
        await handle.writeFile(data);
        if (this.owner !== undefined) await handle.chown(this.owner.uid, this.owner.gid);
      } finally {
        await handle.close();
      }
      await rename(temp, this.pathOf(file));
      return true;
    } catch {
      this.writable = false;
      if (created) await unlink(temp).catch(() => undefined);
      return false;
    }
  }

  /** Removes an index that no longer describes its file (when nothing replaces it). */
  async discard(file: AuditFile): Promise<void> {
    if (this.writable) await unlink(this.pathOf(file)).catch(() => undefined);
  }

  /** Removes indexes of files that are gone (retention) and temporary files left by a crash. */
  async prune(files: readonly AuditFile[]): Promise<void> {
    if (!this.writable) return;
    const listed = new Set(files.map((f) => indexFileName(f.name)));
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        if (name.endsWith('.jsonl.idx') && !listed.has(name)) {
          // Listed files were there when the search began; check again for newer ones.
          const exists = await access(join(this.logDir, name.slice(0, -'.idx'.length))).then(
            () => true,
            () => false,
          );
          if (!exists) await unlink(path);
        } else if (name.startsWith('.') && name.endsWith('.tmp')) {
          const info = await lstat(path);
          if (Date.now() - info.mtimeMs > STALE_TEMP_MS) await unlink(path);
        }
      } catch {
        // Best effort: a leftover index is ignored unless its file comes back.
      }
    }
  }
}
