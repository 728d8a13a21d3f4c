import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadSqlParser } from '../../../src/audit/classify/pg-parser.js';
import { INJECTION_SHAPES } from '../../../src/detect/statement/injection-shapes.js';
import { StatementAnalyzer } from '../../../src/detect/statement/statement-analyzer.js';
import { readCorpus } from './corpus/read-corpus.js';

/**
 * The false-positive and detection rates of the statement detectors
 * (docs/detection.md reports them): a benign corpus (pgbench's built-in
 * scripts and what ORMs emit) must raise nothing, and every statement of the
 * attack corpus must show the shape its note names.
 */
describe('SQL injection corpora', () => {
  before(() => loadSqlParser());

  const benign = [...readCorpus('pgbench.sql'), ...readCorpus('orm.sql')];
  const attacks = readCorpus('attacks.sql');

  it('the corpora are the size the docs report', () => {
    assert.ok(benign.length >= 250, `benign corpus: ${benign.length} statements`);
    assert.ok(attacks.length >= 50, `attack corpus: ${attacks.length} statements`);
    assert.ok(attacks.every((item) => item.shape !== undefined));
  });

  it('finds nothing in the benign corpus (false positives: 0)', (t) => {
    const analyzer = new StatementAnalyzer();
    const flagged = benign.filter((item) => {
      const facts = analyzer.facts(item.sql);
      return (
        facts.injection.size > 0 ||
        facts.escalations.length > 0 ||
        facts.securityDefiners.length > 0 ||
        facts.serverAccess.length > 0 ||
        facts.copies.some((copy) => copy.target === 'program')
      );
    });
    t.diagnostic(`benign: ${flagged.length} of ${benign.length} flagged`);
    t.diagnostic(
      `benign: ${analyzer.stats.parsed} parsed, ${analyzer.stats.skipped} skipped unparsed`,
    );
    assert.deepEqual(
      flagged.map((item) => `${item.sql} → ${[...analyzer.facts(item.sql).injection].join(',')}`),
      [],
    );
    // The prefilter spares most statements a parse (pgbench's hot path entirely).
    assert.ok(analyzer.stats.skipped > 0);
  });

  it('finds the named shape in every statement of the attack corpus', (t) => {
    const analyzer = new StatementAnalyzer();
    const missed = attacks.filter(
      (item) => !analyzer.facts(item.sql).injection.has(item.shape as never),
    );
    const perShape = new Map<string, number>();
    for (const item of attacks)
      perShape.set(item.shape ?? '', (perShape.get(item.shape ?? '') ?? 0) + 1);
    t.diagnostic(`attacks: ${attacks.length - missed.length} of ${attacks.length} detected`);
    t.diagnostic(`attacks per shape: ${[...perShape].map(([s, n]) => `${s} ${n}`).join(', ')}`);
    assert.deepEqual(
      missed.map(
        (item) =>
          `${item.shape}: ${item.sql} → ${[...analyzer.facts(item.sql).injection].join(',')}`,
      ),
      [],
    );
  });

  it('the attack corpus covers every shape', () => {
    const covered = new Set(attacks.map((item) => item.shape));
    assert.deepEqual(
      INJECTION_SHAPES.filter((shape) => !covered.has(shape)),
      [],
    );
  });

  it('never parses pgbench statements: the prefilter passes them by', () => {
    const analyzer = new StatementAnalyzer();
    const pgbench = readCorpus('pgbench.sql').filter(
      (item) =>
        !/^(?:create|drop|select o\.n|copy|alter|vacuum|truncate|select count)/i.test(item.sql),
    );
    for (const item of pgbench) analyzer.facts(item.sql);
    assert.equal(analyzer.stats.parsed, 0);
    assert.equal(analyzer.stats.skipped, pgbench.length);
  });
});
