import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { quoteUntrusted, TOKEN_ERROR_REASONS } from '../../../src/auth/oidc/token-error.js';

/** docs/identity.md and TOKEN_ERROR_REASONS must list the same reasons with the same meanings. */
describe('token error reasons', () => {
  const doc = readFileSync(new URL('../../../../docs/identity.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.slice(doc.indexOf('### Reasons')).split('\n')) {
    const match = /^\| `([a-z-]+)` \| (.+) \|$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2].trim());
  }

  it('documents every reason, and only those', () => {
    assert.deepEqual([...rows.keys()].sort(), Object.keys(TOKEN_ERROR_REASONS).sort());
  });

  it('documents each with the meaning the table gives', () => {
    for (const [reason, meaning] of Object.entries(TOKEN_ERROR_REASONS))
      assert.equal(rows.get(reason), meaning, reason);
  });
});

describe('quoteUntrusted', () => {
  it('keeps a log line a single, short, printable line', () => {
    assert.equal(quoteUntrusted('kid-1'), '"kid-1"');
    assert.equal(quoteUntrusted('a\nb\u2028c\u0000'), '"a?b?c?"');
    assert.equal(quoteUntrusted(['x', 1]), '"[\\"x\\",1]"');
    assert.equal(quoteUntrusted(undefined), '"undefined"');
    assert.equal(JSON.parse(quoteUntrusted('k'.repeat(500))).length, 64);
  });
});
