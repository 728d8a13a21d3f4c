import type { CliIo } from './cli-io.js';

/** Prints rows under a header, each column as wide as its widest cell. */
export function printTable(io: CliIo, header: readonly string[], rows: readonly string[][]): void {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  for (const row of [header, ...rows]) {
    io.out(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}
