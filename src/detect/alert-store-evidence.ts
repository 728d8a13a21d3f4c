import { type Evidence, MAX_EVIDENCE } from './alert-candidate.js';

/** Evidence items kept from an alert's start (how it began); the rest of MAX_EVIDENCE are the latest. */
export const FIRST_EVIDENCE = MAX_EVIDENCE / 2;

/**
 * The evidence an alert keeps when it is seen again: the items it has, then
 * the new ones, identical items once, and at most the first FIRST_EVIDENCE
 * and the latest MAX_EVIDENCE - FIRST_EVIDENCE of them. A long brute-force
 * run thus shows how it started and how it is going, in bounded space.
 */
export function mergeEvidence(
  kept: readonly Evidence[],
  incoming: readonly Evidence[],
): Evidence[] {
  const seen = new Set<string>();
  const all: Evidence[] = [];
  for (const item of [...kept, ...incoming]) {
    const key = evidenceKey(item);
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(item);
  }
  if (all.length <= MAX_EVIDENCE) return all;
  return [
    ...all.slice(0, FIRST_EVIDENCE),
    ...all.slice(all.length - (MAX_EVIDENCE - FIRST_EVIDENCE)),
  ];
}

/** Identity of an item: its defined fields in key order (stored jsonb comes back with keys reordered). */
function evidenceKey(item: Evidence): string {
  return JSON.stringify(
    Object.entries(item)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
