import { readFileSync } from 'node:fs';

/** One statement of a corpus file, with the shape its `# shape:` note names. */
export interface CorpusItem {
  readonly sql: string;
  readonly shape: string | undefined;
}

/**
 * The statements of test/unit/detect/corpus/<name>: separated by blank
 * lines; lines starting with `#` are notes (`# shape: x` applies to the next
 * statement). Read from the source tree (the compiled test runs in dist/).
 */
export function readCorpus(name: string): CorpusItem[] {
  const text = readFileSync(
    new URL(`../../../../../test/unit/detect/corpus/${name}`, import.meta.url),
    'utf8',
  );
  const items: CorpusItem[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    let shape: string | undefined;
    const lines: string[] = [];
    for (const line of block.split('\n')) {
      const note = /^#\s*shape:\s*(\S+)/.exec(line);
      if (note !== null) shape = note[1];
      else if (!line.startsWith('#')) lines.push(line);
    }
    const sql = lines.join('\n').trim();
    if (sql !== '') items.push({ sql, shape });
  }
  return items;
}
