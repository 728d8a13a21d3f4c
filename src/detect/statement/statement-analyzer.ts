import { literalKey } from '../../audit/classify/literal-key.js';
import { parseStatements, scanTokens } from '../../audit/classify/pg-parser.js';
import { NO_FACTS, type StatementFacts, statementFacts } from './statement-facts.js';

/**
 * Words without which no statement detector finds anything: a text with
 * none of them is never parsed. Each shape the detectors look for needs one
 * (an OR for a tautology, UNION, pg_sleep, a cast to a number, `--`, a `;`
 * followed by more, a comparison that starts with a constant, the role and
 * settings catalogs, COPY, the server-file functions, CREATE EXTENSION /
 * LANGUAGE, the privileged attributes and roles, SECURITY DEFINER). Keywords
 * cannot be written with escapes or split by comments, so a miss is exact;
 * a hit in a string constant only costs a parse.
 */
const WORTH_A_PARSE = new RegExp(
  [
    String.raw`\bor\b`,
    String.raw`\bunion\b`,
    'pg_sleep',
    String.raw`\bcast\s*\(`,
    String.raw`::\s*"?(?:int|integer|bigint|smallint|numeric|decimal|float|real|double)`,
    '--',
    String.raw`;\s*[^\s;]`,
    String.raw`(?<![\w$.])\d+(?:\.\d*)?\s*(?:=|<>|!=|<|>)`,
    String.raw`'\s*(?:=|<>|!=|<|>)\s*[\d'(]`,
    String.raw`\bpg_(?:shadow|authid|user|roles|auth_members|database|settings|file_settings|hba_file_rules|ident_file_mappings)\b`,
    'information_schema',
    String.raw`\bversion\s*\(`,
    'current_setting',
    'inet_server_',
    String.raw`\bcopy\b`,
    String.raw`\blo_(?:import|export)\b`,
    'pg_read_',
    'pg_write_',
    'pg_ls_dir',
    'pg_stat_file',
    'pg_file_',
    String.raw`\bextension\b`,
    String.raw`\blanguage\b`,
    'superuser',
    'bypassrls',
    'replication',
    'pg_execute_server_program',
    'pgwarden_',
    String.raw`\bdefiner\b`,
  ].join('|'),
  'i',
);

/** Longer texts are checked again without their string constants before a parse (a bulk INSERT's data). */
const LONG_TEXT = 4096;
const DEFAULT_CACHE_ENTRIES = 2000;
const MAX_CACHED_CHARS = 4 * 1024 * 1024;

export interface AnalyzerStats {
  /** Texts the prefilter let pass without a parse. */
  skipped: number;
  /** Texts parsed. */
  parsed: number;
  /** Texts answered from the cache (by text, or by shape without constants). */
  cached: number;
}

/**
 * Parses a message's SQL for the statement detectors, once for all of them,
 * and only when a cheap look at its words says a detector may find something
 * (the audit's classifier keeps no parse trees; a statement the prefilter
 * passes is parsed here). Answers are cached by text and, when no constant's
 * value decided them, by the text's shape without constants, so a
 * simple-protocol workload with ever-changing literals parses each shape
 * once, as the audit's classifier does. Every detector asks for the same
 * text in turn: the last answer is kept, so they share one analysis.
 */
export class StatementAnalyzer {
  readonly stats: AnalyzerStats = { skipped: 0, parsed: 0, cached: 0 };
  private readonly byText: BoundedCache;
  private readonly byShape: BoundedCache;
  private lastSql: string | undefined;
  private lastFacts: StatementFacts = NO_FACTS;
  /** Names of the sensitive tables: with a `*`, worth a parse. */
  private readonly sensitive: RegExp | undefined;

  constructor(sensitiveTables: readonly string[] = [], maxEntries = DEFAULT_CACHE_ENTRIES) {
    this.byText = new BoundedCache(maxEntries);
    this.byShape = new BoundedCache(maxEntries);
    const names = [...new Set(sensitiveTables.map((t) => t.slice(t.lastIndexOf('.') + 1)))];
    this.sensitive =
      names.length === 0
        ? undefined
        : new RegExp(`(?:^|[^\\w$])(?:${names.map(escapeRegExp).join('|')})(?![\\w$])`, 'i');
  }

  /** What the detectors need of `sql`; NO_FACTS when it holds nothing they look for. */
  facts(sql: string): StatementFacts {
    if (sql === this.lastSql) return this.lastFacts;
    const facts = this.analyze(sql);
    this.lastSql = sql;
    this.lastFacts = facts;
    return facts;
  }

  private analyze(sql: string): StatementFacts {
    if (!this.mentions(sql)) {
      this.stats.skipped++;
      return NO_FACTS;
    }
    const known = this.byText.get(sql);
    if (known !== undefined) {
      this.stats.cached++;
      return known;
    }
    const shape = literalKey(sql);
    if (sql.length > LONG_TEXT && shape !== undefined && !this.mentions(shape)) {
      this.stats.skipped++;
      return NO_FACTS;
    }
    const alike = shape === undefined ? undefined : this.byShape.get(shape);
    if (alike !== undefined) {
      this.stats.cached++;
      return alike;
    }
    this.stats.parsed++;
    const statements = parseStatements(sql) ?? [];
    const tokens = statements.length > 1 || sql.includes('--') ? scanTokens(sql) : undefined;
    const facts = statements.length === 0 ? NO_FACTS : statementFacts(statements, tokens);
    if (shape !== undefined && !facts.byValue) this.byShape.set(shape, facts);
    else this.byText.set(sql, facts);
    return facts;
  }

  private mentions(text: string): boolean {
    return (
      WORTH_A_PARSE.test(text) ||
      (this.sensitive !== undefined && text.includes('*') && this.sensitive.test(text))
    );
  }
}

/** A least-recently-used map from SQL text to facts, bounded in entries and characters. */
class BoundedCache {
  private readonly entries = new Map<string, StatementFacts>();
  private chars = 0;

  constructor(private readonly maxEntries: number) {}

  get(key: string): StatementFacts | undefined {
    const facts = this.entries.get(key);
    if (facts !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, facts);
    }
    return facts;
  }

  set(key: string, facts: StatementFacts): void {
    if (key.length > MAX_CACHED_CHARS / 64 || this.entries.has(key)) return;
    this.entries.set(key, facts);
    this.chars += key.length;
    while (this.entries.size > this.maxEntries || this.chars > MAX_CACHED_CHARS) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
      this.chars -= oldest.value.length;
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
