/**
 * Classifies the SQL passing through the gateway for the audit log, the way
 * pgaudit would: one entry per statement with its audit class, command tag,
 * touched objects and a redacted text. Built on PostgreSQL's own parser, so a
 * statement is read exactly as the server will read it.
 *
 * `classify` never throws: SQL the parser rejects (or any internal failure)
 * yields one UNKNOWN entry with conservatively redacted text. Results are
 * cached by the full SQL string (LRU), so a repeated statement costs a lookup;
 * a single DML statement is also cached by its shape without constants (see
 * literal-key.ts), so `WHERE id = 1`, `= 2`, … cost one parse between them.
 */

import type { AuditClass } from './audit-class.js';
import { auditClassOf } from './audit-class.js';
import { collectObjects } from './collect-objects.js';
import { commandTagOf } from './command-tag.js';
import { literalKey } from './literal-key.js';
import type { RawStatement } from './pg-parser.js';
import {
  byteToCharIndex,
  isParsableText,
  loadSqlParser,
  parseStatements,
  trimSql,
} from './pg-parser.js';
import { looksSensitive, REDACTED_REST, redactStatement, redactUnparsable } from './redact-sql.js';
import { type SessionEffect, sessionEffectOf } from './session-effect.js';

export interface ClassifiedStatement {
  /** The statement's own text (from the parser's statement location), trimmed. Holds secrets: log `redactedText`. */
  readonly text: string;
  readonly class: AuditClass;
  /** PostgreSQL's command tag, e.g. `SELECT`, `CREATE TABLE`, `ALTER ROLE`; `UNKNOWN` if unparsable. */
  readonly commandTag: string;
  /** Relations, functions (FUNCTION class), roles (ROLE class) and DDL object names, as written. */
  readonly objects: readonly string[];
  /** `text` with secrets removed: the only text fit for the audit log. */
  readonly redactedText: string;
  /** Whether the statement carries (or, if unparsable, may carry) a secret. */
  readonly sensitive: boolean;
  /** What it does to the session state the audit follows (SET ROLE, …), if anything. */
  readonly effect?: SessionEffect;
}

export interface SqlClassifierOptions {
  /** Most SQL strings kept in the cache; 0 disables it. Default 10000. */
  readonly cacheSize?: number;
  /** Most characters of SQL kept in the cache in total (bounds its memory). Default 16 Mi. */
  readonly cacheMaxChars?: number;
}

const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_CACHE_MAX_CHARS = 16 * 1024 * 1024;
/** A single SQL string longer than this share of cacheMaxChars is not cached. */
const MAX_ENTRY_SHARE = 64;

const NO_STATEMENTS: readonly ClassifiedStatement[] = Object.freeze([]);
const NO_OBJECTS: readonly string[] = Object.freeze([]);

function freezeEntry(entry: ClassifiedStatement): ClassifiedStatement {
  Object.freeze(entry.objects);
  return Object.freeze(entry);
}

/** The single entry for SQL the parser rejects (or that could not be classified). */
function unknownEntry(sql: string): ClassifiedStatement {
  let text = sql;
  let redactedText = REDACTED_REST;
  let sensitive = true;
  try {
    text = trimSql(sql);
    redactedText = redactUnparsable(text);
    sensitive = looksSensitive(text);
  } catch {
    // keep the most conservative values
  }
  return freezeEntry({
    text,
    class: 'UNKNOWN',
    commandTag: 'UNKNOWN',
    objects: NO_OBJECTS,
    redactedText,
    sensitive,
  });
}

function classifyStatement(
  sql: string,
  statement: RawStatement,
  toChar: (byteOffset: number) => number,
): ClassifiedStatement {
  const start = toChar(statement.byteStart);
  const end = statement.byteEnd === undefined ? sql.length : toChar(statement.byteEnd);
  const text = trimSql(sql.slice(start, end));
  const { type, body } = statement;
  const auditClass = auditClassOf(type, body);
  const { redactedText, sensitive } = redactStatement(text, type, body);
  const effect = sessionEffectOf(type, body);
  return freezeEntry({
    text,
    class: auditClass,
    commandTag: commandTagOf(type, body),
    objects: collectObjects(type, body, auditClass),
    redactedText,
    sensitive,
    ...(effect === undefined ? {} : { effect }),
  });
}

/** Classification without the cache. Never throws. */
export function classifySqlUncached(sql: string): readonly ClassifiedStatement[] {
  try {
    if (trimSql(sql) === '') return NO_STATEMENTS;
    if (!isParsableText(sql)) return Object.freeze([unknownEntry(sql)]);
    const statements = parseStatements(sql);
    if (statements === undefined) return Object.freeze([unknownEntry(sql)]);
    if (statements.length === 0) return NO_STATEMENTS; // only comments and semicolons
    const toChar = byteToCharIndex(sql);
    return Object.freeze(statements.map((statement) => classifyStatement(sql, statement, toChar)));
  } catch {
    return Object.freeze([unknownEntry(sql)]);
  }
}

function positiveIntegerOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;
}

/** Longer statements are not cached by shape (scanning them costs more than it saves). */
const MAX_SHAPE_CHARS = 4096;

/** Command tags of the statements cached by shape: plain DML, whose class and objects no constant changes. */
const SHAPE_TAGS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** The text a lone statement gets from the parser: trimmed, without its final semicolon. */
function loneStatementText(sql: string): string {
  const trimmed = trimSql(sql);
  return trimmed.endsWith(';') ? trimSql(trimmed.slice(0, -1)) : trimmed;
}

export class SqlClassifier {
  readonly #cache = new Map<string, readonly ClassifiedStatement[]>();
  /** Shape (literalKey) → the classification of a statement of that shape, text aside. */
  readonly #shapes = new Map<string, ClassifiedStatement>();
  #shapeChars = 0;
  readonly #cacheSize: number;
  readonly #cacheMaxChars: number;
  #cachedChars = 0;

  private constructor(options: SqlClassifierOptions) {
    this.#cacheSize = positiveIntegerOr(options.cacheSize, DEFAULT_CACHE_SIZE);
    this.#cacheMaxChars = positiveIntegerOr(options.cacheMaxChars, DEFAULT_CACHE_MAX_CHARS);
  }

  /** Loads PostgreSQL's parser (once per process) and returns a classifier. */
  static async create(options: SqlClassifierOptions = {}): Promise<SqlClassifier> {
    await loadSqlParser();
    return new SqlClassifier(options);
  }

  /**
   * One entry per statement of `sql`; none for SQL that is only whitespace or
   * comments. The returned array and its entries are frozen and shared by
   * every call with the same SQL. Never throws.
   */
  classify(sql: string): readonly ClassifiedStatement[] {
    try {
      const cached = this.#cache.get(sql);
      if (cached !== undefined) {
        this.#cache.delete(sql);
        this.#cache.set(sql, cached);
        return cached;
      }
      const shape = this.#shapeOf(sql);
      if (shape !== undefined) {
        const template = this.#shapes.get(shape);
        if (template !== undefined) {
          this.#shapes.delete(shape);
          this.#shapes.set(shape, template);
          const text = loneStatementText(sql);
          return Object.freeze([Object.freeze({ ...template, text, redactedText: text })]);
        }
      }
      const result = classifySqlUncached(sql);
      if (shape !== undefined && this.#isTemplate(sql, result)) {
        this.#rememberShape(shape, result[0] as ClassifiedStatement);
      } else {
        this.#remember(sql, result);
      }
      return result;
    } catch {
      return classifySqlUncached(sql);
    }
  }

  /**
   * The statement's shape, when caching by shape is safe: not for text that
   * mentions a password (whether a constant holds a secret depends on its
   * value), nor text without constants (the exact cache serves it).
   */
  #shapeOf(sql: string): string | undefined {
    if (this.#cacheSize === 0 || sql.length > MAX_SHAPE_CHARS || /password/i.test(sql)) {
      return undefined;
    }
    const shape = literalKey(sql);
    return shape === sql ? undefined : shape;
  }

  /** Whether a classification holds for every statement of its shape. */
  #isTemplate(sql: string, result: readonly ClassifiedStatement[]): boolean {
    const [only] = result;
    return (
      result.length === 1 &&
      only !== undefined &&
      SHAPE_TAGS.has(only.commandTag) &&
      only.class !== 'UNKNOWN' &&
      !only.sensitive &&
      only.effect === undefined &&
      only.redactedText === only.text &&
      only.text === loneStatementText(sql)
    );
  }

  #rememberShape(shape: string, entry: ClassifiedStatement): void {
    // The template's text is replaced on every use: keep none of it.
    this.#shapes.set(shape, Object.freeze({ ...entry, text: '', redactedText: '' }));
    this.#shapeChars += shape.length;
    while (this.#shapes.size > this.#cacheSize || this.#shapeChars > this.#cacheMaxChars) {
      const oldest = this.#shapes.keys().next();
      if (oldest.done === true) break;
      this.#shapes.delete(oldest.value);
      this.#shapeChars -= oldest.value.length;
    }
  }

  /** Number of SQL strings currently cached. */
  get cacheEntries(): number {
    return this.#cache.size;
  }

  /** Number of statement shapes currently cached. */
  get shapeEntries(): number {
    return this.#shapes.size;
  }

  #remember(sql: string, result: readonly ClassifiedStatement[]): void {
    if (this.#cacheSize === 0 || sql.length > this.#cacheMaxChars / MAX_ENTRY_SHARE) return;
    this.#cache.set(sql, result);
    this.#cachedChars += sql.length;
    while (this.#cache.size > this.#cacheSize || this.#cachedChars > this.#cacheMaxChars) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
      this.#cachedChars -= oldest.value.length;
    }
  }
}
