/**
 * An Aho–Corasick automaton over bytes, compiled to a full transition table:
 * one table read per byte whatever the number of markers, and a state that
 * carries over from one chunk to the next, so a marker split across TCP
 * chunks is still found without reassembling (copying) anything.
 *
 * Bytes that occur in no marker share one column (class 0), which keeps the
 * table small: rows are as wide as the number of distinct marker bytes + 1.
 */
export class MarkerAutomaton {
  private constructor(
    /** Byte → column of the transition table. */
    private readonly classes: Uint8Array,
    /**
     * Row offset (state × width) + class → next row offset; stored as `~offset`
     * (negative) when some pattern ends in the next state.
     */
    private readonly next: Int32Array,
    private readonly width: number,
    /** Per state: the pattern ending exactly there, or -1. */
    private readonly ending: Int32Array,
    /** Per state: the nearest proper suffix state where a pattern ends, or -1. */
    private readonly outputLink: Int32Array,
    /** Length of the shortest pattern. */
    readonly minLength: number,
    /** Byte → how far the search may jump from the start state (see `run`). */
    private readonly shift: Uint8Array,
  ) {}

  /** The start state (states are opaque numbers): also where a field boundary resets the search. */
  static readonly START = 0;

  /** Builds the automaton for non-empty, distinct patterns (pattern i is reported as i). */
  static build(patterns: readonly Uint8Array[]): MarkerAutomaton {
    const classes = new Uint8Array(256);
    let width = 1;
    for (const pattern of patterns) {
      if (pattern.length === 0) throw new RangeError('an empty pattern matches everywhere');
      for (const byte of pattern) if (classes[byte] === 0) classes[byte] = width++;
    }
    // The trie: goto[state] maps a class to a child state.
    const children: Map<number, number>[] = [new Map()];
    const endingList: number[] = [-1];
    patterns.forEach((pattern, index) => {
      let state = 0;
      for (const byte of pattern) {
        const cls = classes[byte] as number;
        let child = children[state]?.get(cls);
        if (child === undefined) {
          child = children.length;
          children.push(new Map());
          endingList.push(-1);
          children[state]?.set(cls, child);
        }
        state = child;
      }
      endingList[state] = index;
    });
    const states = children.length;
    if (states * width > 0x7fffffff / 2) throw new RangeError('too many marker bytes');
    const ending = Int32Array.from(endingList);
    const fail = new Int32Array(states);
    const outputLink = new Int32Array(states).fill(-1);
    const next = new Int32Array(states * width);
    // Breadth first: a state's failure state is shallower, so its row is complete when needed.
    const queue: number[] = [0];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      const failRow = (fail[state] as number) * width;
      for (let cls = 0; cls < width; cls++) {
        const child = children[state]?.get(cls);
        if (child === undefined) {
          // Root: unknown bytes stay at the root; otherwise follow the failure state's row.
          next[state * width + cls] = state === 0 ? 0 : (next[failRow + cls] as number);
          continue;
        }
        next[state * width + cls] = child;
        const childFail = state === 0 ? 0 : (next[failRow + cls] as number);
        fail[child] = childFail;
        outputLink[child] =
          (ending[childFail] as number) >= 0 ? childFail : (outputLink[childFail] as number);
        queue.push(child);
      }
    }
    // Row offsets instead of states, and the "a pattern ends here" flag folded in.
    for (let i = 0; i < next.length; i++) {
      const target = next[i] as number;
      const reports = (ending[target] as number) >= 0 || (outputLink[target] as number) >= 0;
      next[i] = reports ? ~(target * width) : target * width;
    }
    return new MarkerAutomaton(classes, next, width, ending, outputLink, ...skipTable(patterns));
  }

  /**
   * Feeds bytes [start, end) from `state`; calls `onMatch(pattern)` for every
   * pattern that ends in them; returns the state to continue from.
   */
  run(
    state: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    onMatch: (pattern: number) => void,
  ): number {
    const classes = this.classes;
    const next = this.next;
    const shift = this.shift;
    const reach = this.minLength - 1;
    let row = state;
    let i = start;
    while (i < end) {
      // In the start state nothing is half matched: when the byte `reach` ahead
      // cannot stand where it stands in any pattern starting from here to
      // `shift` bytes on, none of them starts there (Horspool's rule).
      if (row === 0 && i + reach < end) {
        const jump = shift[bytes[i + reach] as number] as number;
        if (jump > 0) {
          i += jump;
          continue;
        }
      }
      row = next[row + (classes[bytes[i] as number] as number)] as number;
      i++;
      if (row < 0) {
        row = ~row;
        this.report(row / this.width, onMatch);
      }
    }
    return row;
  }

  private report(state: number, onMatch: (pattern: number) => void): void {
    const own = this.ending[state] as number;
    if (own >= 0) onMatch(own);
    for (let s = this.outputLink[state] as number; s >= 0; s = this.outputLink[s] as number) {
      onMatch(this.ending[s] as number);
    }
  }
}

/**
 * Horspool's shift over the first `m` bytes of every pattern (m = the
 * shortest length): for a byte c seen at window position m-1, the distance
 * to its last position in any pattern's first m bytes (m when in none).
 * A pattern starting within that distance would need c somewhere it is not.
 */
function skipTable(patterns: readonly Uint8Array[]): [number, Uint8Array] {
  const m = Math.min(...patterns.map((p) => p.length));
  const shift = new Uint8Array(256).fill(Math.min(m, 255));
  for (const pattern of patterns) {
    for (let j = 0; j < m; j++) {
      const byte = pattern[j] as number;
      shift[byte] = Math.min(shift[byte] as number, m - 1 - j);
    }
  }
  return [m, shift];
}
