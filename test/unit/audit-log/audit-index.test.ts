import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  blockFilter,
  blockSignatures,
  type IndexBlock,
  IndexBuilder,
  type IndexParams,
  lineMask,
  lineMayMatch,
  parseIndex,
  serializeIndex,
} from '../../../src/audit/log/audit-index.js';
import {
  type AuditFilter,
  auditFilter,
  readAuditLog,
} from '../../../src/audit/log/audit-reader.js';
import type { SealedAuditRecord } from '../../../src/audit/log/audit-record.js';
import {
  type AuditSearchStats,
  emptySearchStats,
  indexFileName,
  searchAuditLog,
} from '../../../src/audit/log/audit-search.js';
import { AuditWriter } from '../../../src/audit/log/audit-writer.js';
import { runPgwarden } from '../../helpers/pgwarden-cli.js';
import { auditFiles, type TempLog, tempLog, writeRecords } from './audit-test-helpers.js';

/** Small blocks and small exact sets, so a few thousand records make many blocks and Bloom filters. */
const SMALL: IndexParams = { blockRecords: 32, blockBytes: 6000, exactValues: 3 };
const START = Date.parse('2025-03-01T00:00:00Z');

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function pickFrom<T>(next: () => number): (items: readonly T[]) => T {
  return (items) => items[Math.floor(next() * items.length)] as T;
}

const USERS = ['alice', 'Alice', 'bob', 'zoë', 'carol', '', 42, undefined];
const CLASSES = ['read', 'READ', 'write', 'Write', 'ddl', 'role', 7, undefined];
const OBJECTS = [
  ['public.accounts'],
  ['Sales.Items', 'orders'],
  [],
  'public.accounts',
  [1, 'a.b.c'],
  ['weird.'],
  ['PUBLIC.ACCOUNTS', 'sales.orders'],
  undefined,
];
const ADDRESSES = [
  '10.0.0.7',
  '10.0.0.8',
  '192.168.1.20',
  '2001:db8::5',
  '2001:DB8:0::5',
  '::ffff:10.0.0.7',
  'fe80::1%eth0',
  'not-an-ip',
  3,
  undefined,
];
const OUTCOMES = [
  'SELECT 3',
  'select 1',
  'INSERT 0 1',
  'UPDATE 1',
  '42501',
  '',
  'insert',
  5,
  undefined,
];

/** A varied event: odd types, case, IPv6 forms, missing fields, its own (even invalid) times. */
function variedEvent(
  i: number,
  next: () => number,
): Record<string, unknown> & {
  code: number;
  event: string;
} {
  const pick = pickFrom<unknown>(next);
  const fields: Record<string, unknown> = {
    user: pick(USERS),
    class: pick(CLASSES),
    objects: pick(OBJECTS),
    address: pick(ADDRESSES),
    outcome: pick(OUTCOMES),
    statement: `SELECT ${i} FROM t WHERE note = '${'x'.repeat(Math.floor(next() * 200))}'`,
  };
  // Needles: a rare user and a rare object, in a few places only.
  if (i % 997 === 0) fields.user = 'mallory';
  if (i % 1201 === 0) fields.objects = ['hr.payroll'];
  const r = next();
  if (r < 0.01) fields.time = new Date(START - Math.floor(next() * 86_400_000)).toISOString();
  else if (r < 0.02) fields.time = 'garbage';
  else if (r < 0.025) fields.time = '2025-03-01';
  const event =
    next() < 0.1
      ? { code: 3002, event: 'auth.failed' }
      : { code: 5001, event: next() < 0.5 ? 'statement' : 'statement.error' };
  const out: Record<string, unknown> & { code: number; event: string } = { ...event };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}

/** Writes `count` varied records (one a second from START) through the real writer. */
async function writeVaried(
  log: TempLog,
  from: number,
  count: number,
  maxFileBytes = 40_000,
): Promise<void> {
  const next = random(from * 7919);
  let now = START + from * 1000;
  const writer = await AuditWriter.open({
    dir: log.dir,
    keyFile: log.keyFile,
    maxFileBytes,
    retentionDays: Number.POSITIVE_INFINITY,
    now: () => now,
  });
  for (let i = from; i < from + count; i++) {
    now = START + i * 1000;
    void writer.append(variedEvent(i, next));
  }
  await writer.close();
}

const F_USER = ['alice', 'Alice', 'zoë', 'mallory', 'nobody', ''];
const F_CLASS = ['read', 'WRITE', 'ddl', 'misc'];
const F_OBJECT = [
  'accounts',
  'public.accounts',
  'PUBLIC.Accounts',
  'items',
  'sales.items',
  'orders',
  'c',
  'b.c',
  '',
  'payroll',
  'hr.payroll',
  'weird.',
  'nothing',
];
const F_IP = [
  '10.0.0.7',
  '10.0.0.0/8',
  '::ffff:10.0.0.7',
  '2001:db8::/32',
  '2001:db8::5',
  'fe80::1',
  '192.168.0.0/16',
  '1.2.3.4',
  '0.0.0.0/0',
  '::/0',
];
const F_OUTCOME = ['select', 'SELECT 3', 'insert 0', '42501', '', 'update', 'insert 0 1', 'nope'];

/** Filters: each single criterion, then random combinations. */
function filters(count: number, seed: number, records: number): AuditFilter[] {
  const out: AuditFilter[] = [
    {},
    ...F_USER.map((user) => ({ user })),
    ...F_CLASS.map((c) => ({ class: c })),
    ...F_OBJECT.map((object) => ({ object })),
    ...F_IP.map((ip) => ({ ip })),
    ...F_OUTCOME.map((outcome) => ({ outcome })),
    { since: START + 500_000 },
    { until: START + 10_000 },
    { since: '2025-03-01T00:10:00Z', until: '2025-03-01T00:20:00Z' },
    { since: START - 86_400_000, until: START },
    { event: 'auth' },
  ];
  const next = random(seed);
  const pick = pickFrom<string>(next);
  while (out.length < count) {
    const f: Record<string, unknown> = {};
    if (next() < 0.4) f.user = pick(F_USER);
    if (next() < 0.4) f.class = pick(F_CLASS);
    if (next() < 0.4) f.object = pick(F_OBJECT);
    if (next() < 0.3) f.ip = pick(F_IP);
    if (next() < 0.3) f.outcome = pick(F_OUTCOME);
    if (next() < 0.2) f.since = START + Math.floor(next() * records * 1000);
    if (next() < 0.2) f.until = START + Math.floor(next() * records * 1000);
    if (next() < 0.1) f.event = next() < 0.5 ? 'auth' : 'statement';
    out.push(f as AuditFilter);
  }
  return out;
}

async function collect(source: AsyncIterable<SealedAuditRecord>): Promise<string[]> {
  const lines: string[] = [];
  for await (const record of source) lines.push(JSON.stringify(record));
  return lines;
}

/** Searches with the index and asserts it finds exactly what a full scan finds. */
async function sameAsScan(
  dir: string,
  filter: AuditFilter,
  options: { params?: IndexParams; writeIndex?: boolean; indexDir?: string } = {},
): Promise<AuditSearchStats> {
  const expected = await collect(readAuditLog(dir, filter));
  const stats = emptySearchStats();
  const found = await collect(searchAuditLog(dir, filter, { params: SMALL, ...options, stats }));
  assert.deepEqual(
    found.map((l) => (JSON.parse(l) as { seq: number }).seq),
    expected.map((l) => (JSON.parse(l) as { seq: number }).seq),
    `filter ${JSON.stringify(filter)}`,
  );
  assert.deepEqual(found, expected, `filter ${JSON.stringify(filter)}`);
  return stats;
}

function indexPath(log: TempLog, auditFile: string): string {
  return join(log.dir, 'index', indexFileName(basename(auditFile)));
}

function header(path: string): { covered: number; size: number; file: string } {
  const first = readFileSync(path, 'utf8').split('\n')[0] ?? '';
  return JSON.parse(first) as { covered: number; size: number; file: string };
}

describe('audit search index', () => {
  it('finds exactly what a full scan finds, cold and warm, over many files and blocks', async (t) => {
    const log = tempLog(t);
    await writeVaried(log, 1, 3000);
    const files = auditFiles(log.dir);
    assert.ok(files.length >= 10, `${files.length} files`);

    const cold = await sameAsScan(log.dir, { user: 'alice' });
    assert.equal(cold.files, files.length);
    assert.equal(cold.indexedFiles, 0);
    // Every file but perhaps the newest, which is indexed only once it holds a full block.
    assert.ok(cold.writtenIndexes >= files.length - 1, `${cold.writtenIndexes} indexes`);
    assert.equal(readdirSync(join(log.dir, 'index')).length, cold.writtenIndexes);

    let total = 0;
    for (const filter of filters(160, 11, 3000)) {
      const stats = await sameAsScan(log.dir, filter);
      assert.equal(stats.rejectedIndexes, 0);
      assert.equal(stats.indexedFiles, cold.writtenIndexes);
      assert.equal(stats.writtenIndexes, 0);
      total = Math.max(total, stats.blocks);
    }

    // The needles: few blocks read, few lines parsed.
    for (const filter of [{ user: 'mallory' }, { object: 'hr.payroll' }]) {
      const stats = await sameAsScan(log.dir, filter);
      assert.ok(stats.blocksRead <= 6, `${JSON.stringify(filter)}: ${stats.blocksRead} blocks`);
      assert.ok(stats.linesParsed < 3000 / 20, `${stats.linesParsed} lines parsed`);
    }
    // A time window reads only the blocks around it (and those holding records with their own, earlier times).
    const window = await sameAsScan(log.dir, {
      since: START + 1000_000,
      until: START + 1100_000,
    });
    assert.ok(window.blocksRead < total / 2, `${window.blocksRead} of ${total} blocks`);
    // A common class still skips most lines inside the blocks it reads.
    const ddl = await sameAsScan(log.dir, { class: 'ddl' });
    assert.ok(ddl.linesParsed < 3000 / 2, `${ddl.linesParsed} lines parsed`);

    // Without writing, or with no index at all, the same.
    rmSync(join(log.dir, 'index'), { recursive: true });
    const unwritten = await sameAsScan(log.dir, { class: 'write' }, { writeIndex: false });
    assert.equal(unwritten.writtenIndexes, 0);
    assert.equal(existsSync(join(log.dir, 'index')), false);
    assert.deepEqual(
      await collect(searchAuditLog(log.dir, { object: 'accounts' }, { useIndex: false })),
      await collect(readAuditLog(log.dir, { object: 'accounts' })),
    );
  });

  it('indexes the newest file up to its last full block, and extends it as it grows', async (t) => {
    const log = tempLog(t);
    const params: IndexParams = { blockRecords: 32, blockBytes: 1 << 20, exactValues: 3 };
    await writeVaried(log, 1, 100, 1 << 20);
    const [only] = auditFiles(log.dir);
    const idx = indexPath(log, only as string);

    const first = await sameAsScan(log.dir, { class: 'read' }, { params });
    assert.equal(first.writtenIndexes, 1);
    const lines = (n: number): number =>
      readFileSync(only as string, 'utf8')
        .split('\n')
        .slice(0, n)
        .reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    assert.equal(header(idx).covered, lines(96), 'three full blocks; the last 4 lines are scanned');

    // More records in the same file: the indexed part is used, the rest scanned, then indexed.
    await writeVaried(log, 101, 60, 1 << 20);
    assert.equal(auditFiles(log.dir).length, 1);
    const grown = await sameAsScan(log.dir, { class: 'read' }, { params });
    assert.deepEqual([grown.indexedFiles, grown.rejectedIndexes, grown.writtenIndexes], [1, 0, 1]);
    assert.equal(header(idx).covered, lines(160));
    for (const filter of filters(60, 5, 160)) await sameAsScan(log.dir, filter, { params });

    // A torn last line (no newline yet) is scanned, and yielded if it parses, as by a full scan.
    const last = JSON.parse(
      readFileSync(only as string, 'utf8')
        .trimEnd()
        .split('\n')
        .at(-1) ?? '',
    );
    appendFileSync(only as string, JSON.stringify({ ...last, seq: 161, user: 'torn' }));
    const torn = await sameAsScan(log.dir, { user: 'torn' }, { params });
    assert.equal(torn.writtenIndexes, 0);
    assert.equal((await collect(readAuditLog(log.dir, { user: 'torn' }))).length, 1);

    // Once a newer file starts, the old one is complete: its partial last block is indexed too.
    truncateSync(only as string, lines(160));
    await writeVaried(log, 161, 10, 1 << 20);
    await sameAsScan(log.dir, { user: 'alice' }, { params });
    assert.equal(header(idx).covered, lines(160));
    await writeVaried(log, 171, 40, 1000);
    assert.ok(auditFiles(log.dir).length > 1);
    await sameAsScan(log.dir, { user: 'alice' }, { params });
    assert.equal(header(idx).covered, statSync(only as string).size);
    assert.equal(header(idx).covered, lines(170));
  });

  it('never loses results to a corrupt, stale, foreign or untrusted index', async (t) => {
    const log = tempLog(t);
    await writeVaried(log, 1, 1200);
    const files = auditFiles(log.dir);
    const [a, b] = files as [string, string];
    let indexed = 0;
    const probes: AuditFilter[] = [
      { user: 'alice' },
      { class: 'ddl', object: 'accounts' },
      { ip: '10.0.0.0/8', outcome: 'select' },
      { since: START + 300_000, until: START + 400_000 },
    ];
    const check = async (name: string, rejected: boolean, extra: AuditFilter[] = []) => {
      for (const filter of [...probes, ...extra]) {
        const stats = await sameAsScan(log.dir, filter);
        if (rejected && filter === probes[0]) assert.ok(stats.rejectedIndexes > 0, name);
      }
      // Rebuilt: the next search trusts every index again.
      const after = await sameAsScan(log.dir, { user: 'bob' });
      assert.equal(after.rejectedIndexes, 0, `${name}: rebuilt`);
      assert.equal(after.indexedFiles, indexed, `${name}: rebuilt`);
    };
    indexed = (await sameAsScan(log.dir, {})).writtenIndexes;
    assert.ok(indexed >= files.length - 1);
    await check('fresh', false);

    const corruptions: [string, (path: string) => void][] = [
      ['truncated', (p) => truncateSync(p, Math.floor(statSync(p).size / 2))],
      ['empty', (p) => writeFileSync(p, '')],
      ['garbage', (p) => writeFileSync(p, Buffer.from([0, 1, 2, 255, 10, 123, 10]))],
      [
        'a flipped byte',
        (p) => {
          const data = readFileSync(p);
          const at = data.indexOf('"user"', data.indexOf(10)) + 8;
          data[at] = (data[at] as number) ^ 1;
          writeFileSync(p, data);
        },
      ],
      ['no trailer', (p) => writeFileSync(p, readFileSync(p, 'utf8').replace(/[^\n]*\n$/, ''))],
      ['another file’s index', (p) => copyFileSync(indexPath(log, b), p)],
      [
        'another layout',
        (p) => {
          const { header: h, blocks } = parseIndex(readFileSync(p), SMALL);
          writeFileSync(p, serializeIndex({ ...h, blockRecords: 64 }, blocks));
        },
      ],
      ['group-writable', (p) => chmodSync(p, 0o660)],
      [
        'a symlink',
        (p) => {
          renameSync(p, `${p}.real`);
          symlinkSync(`${p}.real`, p);
        },
      ],
    ];
    for (const [name, corrupt] of corruptions) {
      corrupt(indexPath(log, a));
      await check(name, true);
      assert.equal(statSync(indexPath(log, a)).mode & 0o777, 0o600, name);
    }
    rmSync(`${indexPath(log, a)}.real`, { force: true });

    // A damaged signature line is caught by its own hash: that block is read whole.
    {
      const p = indexPath(log, a);
      const data = readFileSync(p, 'utf8').split('\n');
      data[2] = `${data[2]?.startsWith('A') ? 'B' : 'A'}${data[2]?.slice(1)}`;
      writeFileSync(p, data.join('\n'));
      for (const filter of probes) await sameAsScan(log.dir, filter);
    }

    // Stale: the audit file changed under its index. Each change is one that
    // only one check sees (inode, size, mtime, anchor hashes); an index used
    // anyway would miss the changed records.
    const stale = [...filters(30, 17, 1200), { user: 'alicf' }, { user: 'zed' }];
    {
      // Rewritten in the middle, same size: only the mtime tells.
      const lines = readFileSync(a, 'utf8').split('\n');
      const middle = lines.findIndex(
        (line, i) => i > lines.length / 3 && line.includes('"user":"alice"'),
      );
      assert.ok(middle > 0 && middle < (lines.length * 2) / 3, 'a line in the middle');
      lines[middle] = (lines[middle] as string).replace('"user":"alice"', '"user":"alicf"');
      writeFileSync(a, lines.join('\n'));
      utimesSync(a, new Date(), new Date(Date.now() + 5000));
      await check('rewritten in the middle', true, stale);
    }
    {
      // Rewritten with a line more at the start, same inode: only the anchors tell.
      const text = readFileSync(a, 'utf8');
      const first = JSON.parse(text.slice(0, text.indexOf('\n'))) as Record<string, unknown>;
      writeFileSync(a, `${JSON.stringify({ ...first, seq: 999_999, user: 'zed' })}\n${text}`);
      await check('rewritten and grown', true, stale);
    }
    const copy = `${a}.copy`;
    copyFileSync(a, copy);
    renameSync(copy, a);
    await check('replaced', true);
    const cut = readFileSync(a, 'utf8').split('\n').slice(0, 3).join('\n');
    writeFileSync(a, `${cut}\n`);
    await check('cut short', true, stale);
    // Only appended to: the index is extended, and still matches a scan.
    appendFileSync(a, readFileSync(b, 'utf8'));
    await check('appended', false, stale);
  });

  it('works when the index cannot be written or read', async (t) => {
    const log = tempLog(t);
    await writeVaried(log, 1, 600);
    const indexDir = join(log.root, 'not-a-dir');
    writeFileSync(indexDir, 'x');
    for (const filter of filters(20, 3, 600)) {
      const stats = await sameAsScan(log.dir, filter, { indexDir });
      assert.deepEqual([stats.writtenIndexes, stats.indexedFiles], [0, 0]);
    }
    // A group-writable index directory is not trusted (nor written).
    mkdirSync(join(log.dir, 'index'), { mode: 0o700 });
    chmodSync(join(log.dir, 'index'), 0o770);
    const untrusted = await sameAsScan(log.dir, { user: 'alice' });
    assert.deepEqual([untrusted.writtenIndexes, untrusted.indexedFiles], [0, 0]);
    assert.deepEqual(readdirSync(join(log.dir, 'index')), []);
  });

  it('the CLI, as a user who cannot write the index, prints what root prints', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to run the CLI as another user');
      return;
    }
    const log = tempLog(t);
    await writeVaried(log, 1, 500);
    const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody']).toString().split(':');
    const asUser = { uid: Number(uid), gid: Number(gid) };
    const args = ['audit', 'search', '--class', 'read', '--data-dir', log.root];

    const asRoot = await runPgwarden(args);
    assert.equal(asRoot.code, 0, asRoot.stderr);
    // Default blocks: each complete file is one partial block; the newest has no full one yet.
    assert.equal(readdirSync(join(log.dir, 'index')).length, auditFiles(log.dir).length - 1);

    // The log readable by nobody, the root-made index directory not.
    for (const path of [log.root, log.dir, ...auditFiles(log.dir)])
      chownSync(path, asUser.uid, asUser.gid);
    const asNobody = await runPgwarden(args, asUser);
    assert.equal(asNobody.code, 0, asNobody.stderr);
    assert.equal(asNobody.stderr, '');
    assert.equal(asNobody.stdout, asRoot.stdout);

    // With no index directory and a log directory nobody cannot write: a plain scan.
    rmSync(join(log.dir, 'index'), { recursive: true });
    chownSync(log.dir, 0, 0);
    chmodSync(log.dir, 0o755);
    const scanned = await runPgwarden(args, asUser);
    assert.equal(scanned.stdout, asRoot.stdout);
    assert.equal(existsSync(join(log.dir, 'index')), false);
  });

  it('keeps indexes private and removes those of files that are gone', async (t) => {
    const log = tempLog(t);
    await writeVaried(log, 1, 600);
    await sameAsScan(log.dir, { user: 'alice' });
    const dir = join(log.dir, 'index');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const name of readdirSync(dir))
      assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600);

    const [oldest] = auditFiles(log.dir);
    const stale = join(dir, '.leftover.idx.1.x.tmp');
    const fresh = join(dir, '.recent.idx.2.y.tmp');
    writeFileSync(stale, '');
    writeFileSync(fresh, '');
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, hoursAgo, hoursAgo);
    unlinkSync(oldest as string); // as retention does
    await sameAsScan(log.dir, { user: 'alice' });
    assert.equal(existsSync(indexPath(log, oldest as string)), false);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(fresh), true);
    const names = new Set(auditFiles(log.dir).map((f) => indexFileName(basename(f))));
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.idx')))
      assert.ok(names.has(name), name);
  });

  it('stopping early leaves nothing half-written', async (t) => {
    const log = tempLog(t);
    await writeVaried(log, 1, 600);
    for await (const _ of searchAuditLog(log.dir, {}, { params: SMALL })) break;
    const dir = join(log.dir, 'index');
    for (const name of readdirSync(dir)) {
      assert.ok(name.endsWith('.idx'), name);
      parseIndex(readFileSync(join(dir, name)), SMALL);
    }
    await sameAsScan(log.dir, { class: 'write' });
  });

  it('pgwarden audit search prints the same with and without its index', async (t) => {
    const log = tempLog(t);
    await writeRecords(log, 3000, { maxFileBytes: 64 * 1024 });
    const run = (extra: string[]) =>
      runPgwarden(['audit', 'search', ...extra, '--data-dir', log.root]);
    for (const extra of [
      ['--user', 'alice', '--class', 'write'],
      ['--object', 'accounts', '--ip', '10.0.0.0/8', '--json'],
      ['--outcome', '42501', '--since', '2000-01-01'],
    ]) {
      rmSync(join(log.dir, 'index'), { recursive: true, force: true });
      const cold = await run(extra);
      const warm = await run(extra);
      assert.equal(cold.code, 0, cold.stderr);
      assert.equal(warm.stdout, cold.stdout);
      assert.ok(cold.stdout.length > 0);
      assert.ok(readdirSync(join(log.dir, 'index')).length >= auditFiles(log.dir).length - 1);
    }
  });
});

describe('audit index summaries', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('Alice', 'alice', 'ÅSA', 'İ', 'a.b', 'A.B.C', '.x', 'x.', ' ', 'INSERT 0 1'),
  );
  const value = fc.oneof(text, fc.integer(), fc.constant(null), fc.constant(undefined));
  const address = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.constantFrom('::ffff:10.1.2.3', 'fe80::1%eth0', '2001:DB8::1', 'bad'),
    value,
  );
  const record = fc.record({
    seq: fc.integer({ min: 1, max: 1_000_000 }),
    time: fc.oneof(
      fc
        .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
        .map((d) => d.toISOString()),
      text,
    ),
    user: value,
    class: value,
    outcome: value,
    address,
    objects: fc.oneof(fc.array(fc.oneof(text, fc.integer()), { maxLength: 4 }), value),
  });

  /** A filter built from one of the records' own values, in another case or cut down. */
  const filterFor = (records: readonly Record<string, unknown>[]) =>
    fc
      .record({
        from: fc.nat(records.length - 1),
        fields: fc.subarray(['user', 'class', 'outcome', 'object', 'ip', 'since', 'until'], {
          minLength: 1,
        }),
        upper: fc.boolean(),
        cidr: fc.integer({ min: 0, max: 128 }),
        cut: fc.boolean(),
        slack: fc.integer({ min: -5, max: 5 }),
      })
      .map(({ from, fields, upper, cidr, cut, slack }) => {
        const r = records[from] as Record<string, unknown>;
        const str = (v: unknown): string => {
          const s = typeof v === 'string' ? v : String(v);
          return upper ? s.toUpperCase() : s;
        };
        const f: Record<string, unknown> = {};
        for (const field of fields) {
          if (field === 'user') f.user = typeof r.user === 'string' ? r.user : 'x';
          if (field === 'class') f.class = str(r.class);
          if (field === 'outcome') {
            const o = str(r.outcome);
            f.outcome = cut ? o.split(' ').slice(0, 2).join(' ') : o;
          }
          if (field === 'object') {
            const first = Array.isArray(r.objects) ? r.objects[0] : r.objects;
            const o = str(first);
            f.object = cut ? (o.split('.').at(-1) ?? o) : o;
          }
          if (field === 'ip') {
            const a = typeof r.address === 'string' ? r.address.replace(/%.*$/, '') : '10.0.0.1';
            f.ip = cut ? `${a}/${a.includes(':') ? cidr : cidr % 33}` : a;
          }
          const time = typeof r.time === 'string' ? Date.parse(r.time) : Number.NaN;
          const t = Number.isFinite(time) ? time : 0;
          if (field === 'since') f.since = t + slack;
          if (field === 'until') f.until = t + slack;
        }
        return f as AuditFilter & { since?: number; until?: number };
      });

  it('never rule out a record the filter keeps (blocks, lines, and after a round trip)', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 6 }),
        (records, exactValues) =>
          fc.assert(
            fc.property(filterFor(records), (filter) => {
              let keep: (record: SealedAuditRecord) => boolean;
              try {
                keep = auditFilter(filter);
              } catch {
                return; // an address fast-check made that is no address
              }
              const params = { blockRecords: 16, blockBytes: 1 << 20, exactValues };
              const builder = new IndexBuilder(0, params);
              records.forEach((r, i) => {
                builder.add(i + 1, { ...r, prev: '', mac: '', code: 1, event: 'e' } as never);
              });
              const [built] = builder.finish(true) as [IndexBlock];
              const data = serializeIndex(
                {
                  file: 'f',
                  ino: '1',
                  size: records.length,
                  mtimeNs: '0',
                  covered: records.length,
                  head: '0'.repeat(64),
                  tail: '0'.repeat(64),
                  blockRecords: 16,
                  blockBytes: 1 << 20,
                },
                [built],
              );
              const [parsed] = parseIndex(data, params).blocks as [IndexBlock];
              const test = blockFilter(filter);
              const mask = lineMask(filter);
              for (const block of [built, parsed]) {
                const signatures = blockSignatures(block) as Buffer;
                assert.ok(signatures !== undefined);
                records.forEach((r, i) => {
                  if (!keep({ ...r, prev: '', mac: '', code: 1, event: 'e' } as never)) return;
                  assert.ok(test === undefined || test(block), 'block ruled out');
                  assert.ok(
                    mask === undefined || lineMayMatch(signatures, i, mask),
                    'line ruled out',
                  );
                });
              }
            }),
            { numRuns: 10 },
          ),
      ),
      { numRuns: 300 },
    );
  });

  it('Bloom filters and line signatures rule out most absent values', () => {
    const params = { blockRecords: 1024, blockBytes: 1 << 30, exactValues: 32 };
    const builder = new IndexBuilder(0, params);
    for (let i = 0; i < 1000; i++) {
      builder.add(i + 1, {
        seq: i + 1,
        time: new Date(START + i).toISOString(),
        code: 5001,
        event: 'statement',
        user: `user${i}`,
        class: 'read',
        objects: [`s.table${i}`, `s.view${i}`],
        address: `10.0.${i >> 8}.${i & 255}`,
        outcome: 'SELECT 1',
        prev: '',
        mac: '',
      });
    }
    const [block] = builder.finish(true) as [IndexBlock];
    assert.ok(!('values' in block.user), 'a Bloom filter');
    const signatures = blockSignatures(block) as Buffer;
    const test = (f: Parameters<typeof blockFilter>[0]) => blockFilter(f)?.(block) as boolean;
    for (let i = 0; i < 1000; i += 97) {
      assert.ok(test({ user: `user${i}` }));
      assert.ok(test({ object: `table${i}` }));
      assert.ok(test({ ip: `10.0.${i >> 8}.${i & 255}` }));
    }
    let blockHits = 0;
    let lineHits = 0;
    for (let i = 0; i < 2000; i++) {
      if (test({ user: `other${i}` })) blockHits++;
      const mask = lineMask({ user: `other${i}` });
      if (mask !== undefined && lineMayMatch(signatures, i % 1000, mask)) lineHits++;
    }
    assert.ok(blockHits < 60, `${blockHits} of 2000 absent users pass the Bloom filter`);
    assert.ok(lineHits < 150, `${lineHits} of 2000 absent users pass a line signature`);
    // Ranges rule out addresses outside the block's span; exact classes rule out others.
    assert.equal(test({ ip: '10.1.0.0/16' }), false);
    assert.equal(test({ ip: '2001:db8::/32' }), false);
    assert.equal(test({ class: 'write' }), false);
    assert.equal(test({ since: START + 1000 }), false);
    assert.equal(test({ until: START }), false);
    assert.equal(test({ until: START + 1 }), true);
  });
});
