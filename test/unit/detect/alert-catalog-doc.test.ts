import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ALERT_TYPES } from '../../../src/detect/alert-catalog.js';

/** docs/detection.md's catalogue table and ALERT_TYPES list the same alerts, the same way. */
it('docs/detection.md lists every alert type with its severity, tactic and technique', () => {
  const doc = readFileSync(new URL('../../../../docs/detection.md', import.meta.url), 'utf8');
  const start = doc.indexOf('## The alert catalogue');
  const end = doc.indexOf('\n## ', start + 1);
  assert.ok(start >= 0, 'the catalogue section exists');
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z.-]+)` \| (.+) \|$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      rows.set(match[1], match[2].split(' | '));
    }
  }
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ALERT_TYPES).sort());
  for (const [id, info] of Object.entries(ALERT_TYPES)) {
    assert.deepEqual(
      rows.get(id),
      [info.severity, info.tactic, info.technique, info.description],
      id,
    );
  }
});
