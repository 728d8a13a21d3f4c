import { readFileSync } from 'node:fs';

/** pgwarden's version, from its package.json (dist/src/cli → package root). */
export const PGWARDEN_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
