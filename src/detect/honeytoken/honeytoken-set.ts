import { MarkerAutomaton } from './marker-automaton.js';

/** A honeytoken as the gateway knows it: never its marker, which stays in the automaton. */
export interface Honeytoken {
  readonly id: number;
  /** Where it was planted or marked (a read may come through another database, e.g. a dblink). */
  readonly database: string;
  readonly table: string;
}

/** A row of pgwarden.honeytokens, as the gateway loads it. */
export interface HoneytokenRow extends Honeytoken {
  readonly marker: string;
}

/**
 * The honeytokens a gateway watches for, compiled: one automaton over all
 * markers (a marker stored twice is one pattern reporting both honeytokens).
 * Immutable; a change builds a new set.
 */
export class HoneytokenSet {
  static readonly EMPTY = new HoneytokenSet([], undefined, '');

  private constructor(
    /** Per pattern of the automaton: the honeytokens with that marker. */
    readonly byPattern: readonly (readonly Honeytoken[])[],
    readonly automaton: MarkerAutomaton | undefined,
    /** Identifies the contents, so an unchanged reload keeps the built automaton. */
    readonly signature: string,
  ) {}

  get size(): number {
    return this.byPattern.length;
  }

  static build(rows: readonly HoneytokenRow[]): HoneytokenSet {
    const signature = rows.map((row) => `${row.id}\0${row.marker}`).join('\0');
    if (rows.length === 0) return HoneytokenSet.EMPTY;
    const patterns = new Map<string, Honeytoken[]>();
    for (const { marker, id, database, table } of rows) {
      const list = patterns.get(marker) ?? [];
      list.push({ id, database, table });
      patterns.set(marker, list);
    }
    const markers = [...patterns.keys()];
    return new HoneytokenSet(
      markers.map((marker) => patterns.get(marker) ?? []),
      MarkerAutomaton.build(markers.map((marker) => Buffer.from(marker, 'utf8'))),
      signature,
    );
  }
}
