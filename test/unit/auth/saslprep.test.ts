import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { saslprep } from '../../../src/gateway/auth/saslprep.js';

describe('saslprep (PostgreSQL pg_saslprep semantics)', () => {
  it('leaves ASCII alone, control characters included', () => {
    assert.equal(saslprep('user'), 'user');
    assert.equal(saslprep('USER'), 'USER');
    assert.equal(saslprep('p@ss w0rd!'), 'p@ss w0rd!');
    // RFC 4013 section 3 would prohibit U+0007; PostgreSQL keeps ASCII as is.
    assert.equal(saslprep('\u0007'), '\u0007');
    assert.equal(saslprep(''), '');
  });

  it('maps to nothing, maps spaces, and applies NFKC (RFC 4013 section 3 examples)', () => {
    assert.equal(saslprep('I\u00adX'), 'IX'); // soft hyphen, B.1
    assert.equal(saslprep('\u00aa'), 'a'); // NFKC
    assert.equal(saslprep('\u2168'), 'IX'); // ROMAN NUMERAL NINE, NFKC
    assert.equal(saslprep('pass\u00a0word'), 'pass word'); // C.1.2
    assert.equal(saslprep('a\u3000b'), 'a b');
    assert.equal(saslprep('a\u200bb'), 'a b'); // in C.1.2 and B.1: PostgreSQL maps to space first
    assert.equal(saslprep('\uff50\uff41\uff53\uff53'), 'pass'); // fullwidth
    assert.equal(saslprep('\ufb01x'), 'fix'); // ligature
    assert.equal(saslprep('e\u0301t\u00e9'), '\u00e9t\u00e9'); // composition
    assert.equal(saslprep('\u00e9t\u00e9\u2060'), '\u00e9t\u00e9'); // WORD JOINER, B.1
  });

  it('returns the original string where PostgreSQL would report "prohibited"', () => {
    for (const original of [
      '\u0627\u0031', // RFC 4013 section 3: RandALCat first but not last
      'a\u05d0', // RandALCat with LCat
      '\u05d0a\u05d1', // RandALCat with LCat in the middle
      'pass\ue000', // private use, C.3
      'pass\u200e\u00e9', // LEFT-TO-RIGHT MARK, C.8
      '\u00e9\u0221', // unassigned in Unicode 3.2, A.1
      '\u00e9\u{1f600}', // emoji: unassigned in Unicode 3.2
      '\u00ad', // empty after mapping
      '\u00e9\u0085', // NEXT LINE, C.2.2
      '\u00e9\ud800', // lone surrogate: not UTF-8
    ]) {
      assert.equal(saslprep(original), original, JSON.stringify(original));
    }
  });

  it('accepts well-formed right-to-left strings', () => {
    assert.equal(saslprep('\u05d0\u05d1'), '\u05d0\u05d1');
    assert.equal(saslprep('\u0627\u0031\u0628'), '\u0627\u0031\u0628');
    assert.equal(saslprep('\ufb20\u05d0'), '\u05e2\u05d0'); // NFKC of a Hebrew presentation form
  });
});
