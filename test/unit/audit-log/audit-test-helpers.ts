import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditPaths } from '../../../src/audit/log/audit-paths.js';
import { AuditWriter, type AuditWriterOptions } from '../../../src/audit/log/audit-writer.js';

export interface TempLog {
  readonly root: string;
  readonly dir: string;
  readonly keyFile: string;
}

/** A temporary data directory with the audit log paths inside; removed after the test. */
export function tempLog(t: { after: (fn: () => void) => void }): TempLog {
  const root = mkdtempSync(join(tmpdir(), 'pgw-audit-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const { logDir, keyFile } = auditPaths(root);
  return { root, dir: logDir, keyFile };
}

/** A statement event as the gateway will append it. */
export function statementEvent(i: number): {
  code: number;
  event: string;
  [key: string]: unknown;
} {
  return {
    code: 5001,
    event: 'statement',
    user: i % 3 === 0 ? 'alice' : 'bob',
    database: 'app',
    address: i % 2 === 0 ? '10.0.0.7' : '192.168.1.20',
    class: i % 5 === 0 ? 'write' : 'read',
    objects: i % 5 === 0 ? ['public.accounts'] : ['public.orders', 'sales.items'],
    outcome: i % 7 === 0 ? '42501' : i % 5 === 0 ? 'UPDATE 1' : 'SELECT 3',
    statement: `SELECT * FROM orders WHERE id = ${i}`,
  };
}

/** Writes `count` statement records through a writer and closes it. */
export async function writeRecords(
  log: TempLog,
  count: number,
  options: Partial<AuditWriterOptions> = {},
): Promise<void> {
  const writer = await AuditWriter.open({ dir: log.dir, keyFile: log.keyFile, ...options });
  for (let i = 1; i <= count; i++) void writer.append(statementEvent(i));
  await writer.close();
}

/** The audit files of a directory, in chain order. */
export function auditFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith('audit-') && name.endsWith('.jsonl'))
    .sort((a, b) => firstSeq(a) - firstSeq(b))
    .map((name) => join(dir, name));
}

function firstSeq(name: string): number {
  return Number(/-(\d+)\.jsonl$/.exec(name)?.[1]);
}

/** Rewrites a file's lines with `edit` (which gets and returns the lines, without newlines). */
export function editLines(file: string, edit: (lines: string[]) => string[]): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const last = lines.pop();
  if (last !== '') throw new Error(`${file} does not end with a newline`);
  writeFileSync(file, `${edit(lines).join('\n')}\n`);
}
