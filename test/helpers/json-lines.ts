import { existsSync, readFileSync } from 'node:fs';

/** The records of a JSON-lines file (the gateway's events, an audit file); none if it does not exist yet. */
export function readJsonLines<T = Record<string, unknown>>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}
