#!/usr/bin/env node
// `pgwarden audit search` over a day of records: the full scan (readAuditLog,
// what search did before the index), a cold indexed search (no index yet: it
// reads everything and writes the indexes) and a warm one (indexes present).
// Writes the log with the real AuditWriter into a temporary directory under
// /tmp and removes it at the end.
//
//   npm run build && node bench/audit-search.mjs [RECORDS] [REPETITIONS]
//
// RECORDS defaults to 1500000 (about 860 MiB of log; writing it takes about
// 20 s), REPETITIONS (warm and scan runs per query, medians) to 3. The whole
// run takes about 3 minutes at the default size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (path) => join(root, 'dist', 'src', 'audit', 'log', path);
const { AuditWriter } = await import(dist('audit-writer.js'));
const { readAuditLog } = await import(dist('audit-reader.js'));
const { searchAuditLog, emptySearchStats } = await import(dist('audit-search.js'));

const RECORDS = Number(process.argv[2] ?? 1_500_000);
const REPS = Number(process.argv[3] ?? 3);
if (!Number.isSafeInteger(RECORDS) || RECORDS < 10_000 || RECORDS > 5_000_000)
  throw new Error('RECORDS must be between 10000 and 5000000');
if (!Number.isSafeInteger(REPS) || REPS < 1 || REPS > 10)
  throw new Error('REPETITIONS must be between 1 and 10');

const work = mkdtempSync(join(tmpdir(), 'pgw-auditsearch-'));
const dir = join(work, 'audit');
const indexDir = join(dir, 'index');
const cleanup = () => rmSync(work, { recursive: true, force: true });
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

// A deterministic day: xorshift32.
let state = 0x9e3779b9;
const random = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};
const pick = (items) => items[Math.floor(random() * items.length)];
const weighted = (table) => {
  let r = random() * table.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, w] of table) {
    r -= w;
    if (r < 0) return value;
  }
  return table.at(-1)[0];
};

const DAY = Date.parse('2026-11-20T00:00:00Z');
const users = Array.from({ length: 40 }, (_, i) => [`app_user_${i}`, 1 / (i + 1)]);
const hosts = Array.from({ length: 200 }, (_, i) => `10.0.${i >> 6}.${(i & 63) + 1}`);
const tables = Array.from(
  { length: 300 },
  (_, i) => `${['public', 'sales', 'billing'][i % 3]}.table_${i}`,
);
const classes = [
  ['read', 70],
  ['write', 22],
  ['function', 4],
  ['misc', 2],
  ['misc_set', 1.4],
  ['ddl', 0.5],
  ['role', 0.1],
];
// The needles: a user seen only around 02:10, a rarely touched table, one odd address.
const rare = { user: 'mallory', object: 'hr.payroll', ip: '203.0.113.66' };

function event(i) {
  if (i % 500 === 0) {
    return {
      code: 3001,
      event: 'auth.ok',
      user: weighted(users),
      address: pick(hosts),
      port: 40000 + (i % 20000),
    };
  }
  const time = DAY + Math.floor((i / RECORDS) * 86_400_000);
  const klass = weighted(classes);
  let user = weighted(users);
  let address = pick(hosts);
  let objects = [pick(tables), ...(random() < 0.3 ? [pick(tables)] : [])];
  if (Math.abs(time - (DAY + 2 * 3_600_000 + 15 * 60_000)) < 300_000 && i % 131 === 0) {
    user = rare.user;
    address = rare.ip;
  }
  if (i % 7919 === 0) objects = [rare.object];
  const n = Math.floor(random() * 50);
  const outcome =
    random() < 0.001
      ? '42501'
      : klass === 'write'
        ? pick([`INSERT 0 ${n}`, `UPDATE ${n}`, `DELETE ${n}`])
        : klass === 'read'
          ? `SELECT ${n}`
          : 'SET';
  return {
    code: 5001,
    event: 'statement',
    session: `s${i >> 8}`,
    statementId: i,
    address,
    port: 40000 + (i % 20000),
    tls: 'TLSv1.3',
    database: 'app',
    user,
    applicationName: 'bench',
    protocol: 'extended',
    class: klass,
    command: outcome.split(' ')[0],
    objects,
    statement: `SELECT id, name, amount FROM ${objects[0]} WHERE customer_id = $1 AND created_at > $2 ORDER BY id LIMIT 50`,
    outcome,
    rows: n,
    durationMs: Math.round(random() * 500) / 100,
  };
}

const ms = (from) => Math.round(performance.now() - from);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

let clock = DAY;
const writer = await AuditWriter.open({
  dir,
  keyFile: join(work, 'keys', 'audit.key'),
  retentionDays: Number.POSITIVE_INFINITY,
  now: () => clock,
});
let started = performance.now();
for (let i = 1; i <= RECORDS; i++) {
  clock = DAY + Math.floor((i / RECORDS) * 86_400_000);
  void writer.append(event(i));
  if (i % 20_000 === 0) await writer.flush();
}
await writer.close();
const files = readdirSync(dir).filter((name) => name.endsWith('.jsonl'));
const bytes = files.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
console.log(
  `wrote ${RECORDS} records, ${files.length} files, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${ms(started)} ms`,
);

async function run(search) {
  let count = 0;
  for await (const _ of search) count += 1;
  return count;
}

const queries = [
  ['--user mallory', { user: rare.user }],
  ['--object hr.payroll', { object: rare.object }],
  ['--ip 203.0.113.66', { ip: rare.ip }],
  ['--since/--until 1 h', { since: DAY + 13 * 3_600_000, until: DAY + 14 * 3_600_000 }],
  ['--class ddl', { class: 'ddl' }],
  ['--outcome 42501', { outcome: '42501' }],
  ['--user app_user_3 --class role', { user: 'app_user_3', class: 'role' }],
];

const rows = [];
for (const [label, filter] of queries) {
  const scans = [];
  let expected = 0;
  for (let r = 0; r < REPS; r++) {
    started = performance.now();
    expected = await run(readAuditLog(dir, filter));
    scans.push(ms(started));
  }
  rmSync(indexDir, { recursive: true, force: true });
  started = performance.now();
  const coldCount = await run(searchAuditLog(dir, filter));
  const cold = ms(started);
  const warms = [];
  let stats;
  for (let r = 0; r < REPS; r++) {
    stats = emptySearchStats();
    started = performance.now();
    const count = await run(searchAuditLog(dir, filter, { stats }));
    warms.push(ms(started));
    if (count !== expected || coldCount !== expected)
      throw new Error(`${label}: ${expected} by scan, ${coldCount} cold, ${count} warm`);
  }
  rows.push({
    label,
    matches: expected,
    scan: median(scans),
    cold,
    warm: median(warms),
    blocks: `${stats.blocksRead}/${stats.blocks}`,
  });
  console.log(rows.at(-1));
}
const indexBytes = readdirSync(indexDir).reduce(
  (sum, name) => sum + statSync(join(indexDir, name)).size,
  0,
);
console.log(
  `\nindex: ${(indexBytes / 2 ** 20).toFixed(1)} MiB for ${(bytes / 2 ** 20).toFixed(0)} MiB of log`,
);
console.log(`node ${process.version}, ${execFileSync('nproc').toString().trim()} CPUs\n`);
console.log('| query | matches | full scan ms | cold (builds index) ms | warm ms | blocks read |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  console.log(
    `| \`${row.label}\` | ${row.matches} | ${row.scan} | ${row.cold} | ${row.warm} | ${row.blocks} |`,
  );
}
