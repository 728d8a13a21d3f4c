/**
 * Decides on a whole held message: the message to send instead, or undefined
 * to send it as it came. May answer later (a promise that never rejects).
 */
export type GateCheck = (
  type: number,
  message: Buffer,
) => Buffer | undefined | Promise<Buffer | undefined>;

export interface GateOutput {
  /** Sends bytes to the backend; false when its buffer is full. */
  write(chunk: Buffer): boolean;
  /** The gate stopped holding the client back (a pending check finished). */
  resume(): void;
  /** A check failed unexpectedly: the session must end, nothing more is sent. */
  fail(error: unknown): void;
}

/**
 * Sits between the client's stream and the backend, after the relay's
 * scanner has checked every header against the size limit. Messages of the
 * held types (Query and Parse) are passed on only once complete and checked;
 * all other bytes go on as they came. A held message that lies whole inside
 * one chunk and is let through costs no copy: the chunk is forwarded as it
 * is. While a check is pending (it needs the catalog), later bytes wait in
 * order behind it, so the backend sees the client's messages in the order
 * sent.
 */
export class StatementGate {
  /** Body bytes of the current message still to come. */
  private remaining = 0;
  private readonly header = Buffer.alloc(5);
  private headerFill = 0;
  /**
   * The held message's bytes from earlier chunks, while it is incomplete.
   * Chunks are kept by reference, as the relay's writes keep them: the
   * socket hands out a new buffer for every read.
   */
  private parts: Buffer[] | undefined;
  private heldType = 0;
  private waiting = false;
  private queue: Buffer[] = [];
  private closed = false;

  constructor(
    /** Indexed by type byte: 1 for the types to hold. */
    private readonly holds: Uint8Array,
    private readonly check: GateCheck,
    private readonly output: GateOutput,
  ) {}

  /** Takes the next chunk from the client; false asks the client to pause. */
  push(chunk: Buffer): boolean {
    if (this.closed) return false;
    if (this.waiting) {
      this.queue.push(chunk);
      return false;
    }
    return this.process(chunk);
  }

  /** The session ended: nothing more is sent, a pending check's answer is dropped. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }

  private process(chunk: Buffer): boolean {
    const end = chunk.length;
    let offset = 0;
    /** Bytes of this chunk from here on are forwarded unchanged, unless held. */
    let passFrom = 0;
    /** Where the held message began in this chunk (0 if it began in an earlier one). */
    let heldFrom = 0;
    let flowing = true;
    while (offset < end) {
      if (this.remaining > 0) {
        const step = Math.min(this.remaining, end - offset);
        this.remaining -= step;
        offset += step;
        if (this.remaining > 0 || this.parts === undefined) continue;
      } else {
        if (this.headerFill === 0 && this.holds[chunk[offset] as number] === 1) {
          this.heldType = chunk[offset] as number;
          this.parts = [];
          heldFrom = offset;
        }
        const take = Math.min(5 - this.headerFill, end - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < 5) break;
        this.headerFill = 0;
        this.remaining = this.header.readInt32BE(1) - 4;
        if (this.remaining > 0 || this.parts === undefined) continue;
      }
      // A held message is complete at `offset`.
      const whole = this.parts.length === 0;
      const message = whole
        ? chunk.subarray(heldFrom, offset)
        : Buffer.concat([...this.parts, chunk.subarray(0, offset)]);
      this.parts = undefined;
      let verdict: ReturnType<GateCheck>;
      try {
        verdict = this.check(this.heldType, message);
      } catch (error) {
        this.abort(error);
        return false;
      }
      if (verdict === undefined && whole) continue; // stays in the pass-through range
      if (whole) flowing = this.send(chunk.subarray(passFrom, heldFrom)) && flowing;
      passFrom = offset;
      if (verdict instanceof Promise) {
        const rest = chunk.subarray(offset);
        if (rest.length > 0) this.queue.unshift(rest);
        this.wait(verdict, message);
        return false;
      }
      flowing = this.send(verdict ?? message) && flowing;
    }
    if (this.parts !== undefined) {
      // Incomplete: keep its bytes of this chunk; send what came before it.
      const start = this.parts.length === 0 ? heldFrom : 0;
      flowing = this.send(chunk.subarray(passFrom, start)) && flowing;
      this.parts.push(chunk.subarray(start, end));
      return flowing;
    }
    return this.send(chunk.subarray(passFrom, end)) && flowing;
  }

  private wait(verdict: Promise<Buffer | undefined>, message: Buffer): void {
    this.waiting = true;
    verdict.then(
      (replacement) => {
        if (this.closed) return;
        this.waiting = false;
        let flowing = this.send(replacement ?? message);
        while (!this.waiting && !this.closed && this.queue.length > 0) {
          flowing = this.process(this.queue.shift() as Buffer) && flowing;
        }
        if (flowing && !this.waiting && !this.closed) this.output.resume();
      },
      (error: unknown) => this.abort(error),
    );
  }

  private abort(error: unknown): void {
    if (this.closed) return;
    this.close();
    this.output.fail(error);
  }

  private send(bytes: Buffer): boolean {
    if (bytes.length === 0 || this.closed) return true;
    return this.output.write(bytes);
  }
}
