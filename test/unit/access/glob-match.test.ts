import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globMatch } from '../../../src/access/glob-match.js';

describe('globMatch', () => {
  it('matches literally, with * for any run and ? for one character', () => {
    const cases: Array<[string, string, boolean]> = [
      ['psql', 'psql', true],
      ['psql', 'psql ', false],
      ['psql', 'PSQL', false],
      ['*', '', true],
      ['*', 'anything', true],
      ['', '', true],
      ['', 'x', false],
      ['?', '', false],
      ['?', 'x', true],
      ['?', 'xy', false],
      ['app-*', 'app-', true],
      ['app-*', 'app-web', true],
      ['app-*', 'ap-web', false],
      ['*-worker', 'billing-worker', true],
      ['*-worker', 'billing-worker-2', false],
      ['a*b*c', 'aXbYc', true],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'acb', false],
      ['**x', 'x', true],
      ['job-??', 'job-12', true],
      ['job-??', 'job-1', false],
      ['a.b', 'aXb', false],
      ['(x)+', '(x)+', true],
      ['?', '😀', true],
      ['*😀', 'smile😀', true],
    ];
    for (const [pattern, text, expected] of cases) {
      assert.equal(globMatch(pattern, text), expected, `${pattern} ~ ${text}`);
    }
  });

  it('settles a pattern that would backtrack exponentially as a regular expression', () => {
    assert.equal(globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
    assert.equal(globMatch('*a*a*a*a*a*a*a*a*b', `${'a'.repeat(5000)}b`), true);
  });
});
