import type { BodyWatch } from '../../gateway/relay/message-scanner.js';
import type { AlertCandidate } from '../alert-candidate.js';
import { honeytokenAlert, type WatchedSession } from './honeytoken-alert.js';
import type { HoneytokenRegistry } from './honeytoken-registry.js';
import { HoneytokenSet } from './honeytoken-set.js';
import { MarkerAutomaton } from './marker-automaton.js';

const DATA_ROW = 0x44; // 'D'
const COPY_DATA = 0x64; // 'd'

/** Where in a DataRow body the next byte is. */
const COLUMN_COUNT = 0;
const FIELD_LENGTH = 1;
const FIELD_VALUE = 2;
/** Any other watched message: the body is searched as a whole. */
const WHOLE = 3;

/**
 * One session's honeytoken watch on the backend's messages: searches each
 * DataRow field (text or binary format alike: a text value's bytes are the
 * same in both), each COPY … TO STDOUT row and each error or notice for the
 * markers, as the bytes pass, without copying them. A DataRow is parsed
 * just enough to restart the search at every field, so a marker never
 * matches across two columns. A match raises honeytoken.read once per
 * honeytoken for the session.
 */
export class HoneytokenWatch implements BodyWatch {
  readonly wants: Uint8Array;
  private set: HoneytokenSet = HoneytokenSet.EMPTY;
  private type = 0;
  private state = MarkerAutomaton.START;
  private phase = WHOLE;
  /** Bytes of the column count or field length still to read. */
  private need = 0;
  /** The field length being read, big-endian. */
  private length = 0;
  /** Bytes of the current field value still to come. */
  private left = 0;
  private readonly fired = new Set<number>();

  constructor(
    private readonly registry: HoneytokenRegistry,
    private readonly session: WatchedSession,
    private readonly onAlert: (candidate: AlertCandidate) => void,
  ) {
    this.wants = registry.wants;
  }

  begin(type: number, _bodyLength: number): void {
    const set = this.registry.current;
    // COPY rows may be split over CopyData messages at any byte: the search carries on.
    const carry = type === COPY_DATA && this.type === COPY_DATA && set === this.set;
    this.set = set;
    this.type = type;
    if (!carry) this.state = MarkerAutomaton.START;
    if (type === DATA_ROW) {
      this.phase = COLUMN_COUNT;
      this.need = 2;
      this.length = 0;
    } else {
      this.phase = WHOLE;
    }
  }

  body(chunk: Buffer, start: number, end: number): void {
    const automaton = this.set.automaton;
    if (automaton === undefined) return;
    if (this.phase === WHOLE) {
      this.state = automaton.run(this.state, chunk, start, end, this.onMatch);
      return;
    }
    const min = automaton.minLength;
    let i = start;
    while (i < end) {
      if (this.phase === FIELD_VALUE) {
        const stop = Math.min(end, i + this.left);
        // A value shorter than every marker is only skipped.
        if (this.length >= min) {
          this.state = automaton.run(this.state, chunk, i, stop, this.onMatch);
        }
        this.left -= stop - i;
        i = stop;
        if (this.left === 0) this.nextField();
        continue;
      }
      if (this.need === 4 && end - i >= 4) {
        this.length = chunk.readInt32BE(i);
        i += 4;
        this.need = 0;
      } else {
        // A length word split across chunks: a byte at a time.
        this.length = (this.length << 8) | (chunk[i] as number);
        i++;
        if (--this.need > 0) continue;
      }
      // After the column count, and after a NULL (-1) or empty value: the next length.
      if (this.phase === COLUMN_COUNT || this.length <= 0) {
        this.nextField();
      } else {
        this.phase = FIELD_VALUE;
        this.left = this.length;
        this.state = MarkerAutomaton.START;
      }
    }
  }

  end(): void {
    if (this.type !== COPY_DATA) this.state = MarkerAutomaton.START;
  }

  private nextField(): void {
    this.phase = FIELD_LENGTH;
    this.need = 4;
    this.length = 0;
  }

  private readonly onMatch = (pattern: number): void => {
    for (const honeytoken of this.set.byPattern[pattern] ?? []) {
      if (this.fired.has(honeytoken.id)) continue;
      this.fired.add(honeytoken.id);
      // Raising must never break the relay that called us.
      try {
        this.onAlert(honeytokenAlert(this.session, honeytoken, this.type, new Date()));
      } catch {
        // the engine reports its own failures
      }
    }
  };
}
