import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/errors.js';

/** docs/errors.md and ERROR_CODES must list the same codes with the same meanings. */
describe('error code table', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const match = /^\| `(PGW_[A-Z_]+)` \| (.+?) \|/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2].trim());
  }

  it('documents every code, and only those', () => {
    assert.deepEqual([...rows.keys()].sort(), Object.keys(ERROR_CODES).sort());
  });

  it('documents each with the meaning the code table gives', () => {
    for (const [code, meaning] of Object.entries(ERROR_CODES))
      assert.equal(rows.get(code), meaning, code);
  });
});
