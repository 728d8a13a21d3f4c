import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteIdent, quoteLiteral } from '../../src/control/sql/quote.js';

describe('SQL quoting', () => {
  it('doubles double quotes in identifiers', () => {
    assert.equal(quoteIdent('plain'), '"plain"');
    assert.equal(quoteIdent('we"ird'), '"we""ird"');
  });

  it('doubles single quotes and escapes backslashes in literals', () => {
    assert.equal(quoteLiteral("it's"), "'it''s'");
    assert.equal(quoteLiteral('a\\b'), "E'a\\\\b'");
  });

  it('refuses NUL bytes, which PostgreSQL cannot store', () => {
    assert.throws(() => quoteIdent('a\0b'), TypeError);
    assert.throws(() => quoteLiteral('a\0b'), TypeError);
  });
});
