import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { fatal } from '../../protocol/backend/error-response.js';
import { FramingError } from '../../protocol/framing-error.js';
import { TERMINATE } from '../../protocol/frontend/terminate.js';
import { SQLSTATE } from '../../protocol/sqlstate.js';
import { type GateCheck, StatementGate } from '../guard/statement-gate.js';
import { type BodyWatch, MessageScanner, type MessageTap } from './message-scanner.js';

export type RelayEnd =
  | 'client-closed'
  | 'backend-closed'
  | 'protocol-violation'
  | 'message-too-large'
  | 'idle-timeout'
  | 'shutdown'
  | 'token-expired'
  | 'revoked'
  | 'error';

export interface RelayOptions {
  readonly maxMessageLength: number;
  /** Close a session idle (outside a transaction) this long; 0 disables. */
  readonly idleTimeoutMs: number;
  /** Status byte of the ReadyForQuery that ended the startup ('I' for a new session). */
  readonly initialTransactionStatus: number;
  /** Called when the client leaves while the backend still works on its request. */
  readonly onAbandoned: () => void;
  /** The audit's taps on each direction, if the session is audited. */
  readonly clientTap?: MessageTap | undefined;
  readonly backendTap?: MessageTap | undefined;
  /** Follows the backend's result rows as they pass (honeytokens); never delays them. */
  readonly backendWatch?: BodyWatch | undefined;
  /**
   * Durable audit: after the backend tap saw a chunk, the write of the records
   * it completed. The chunk (and every later one) reaches the client only once
   * that write is on disk.
   */
  readonly durableWait?: (() => Promise<void> | undefined) | undefined;
  /**
   * The statement guard: the client's messages of the held types reach the
   * backend only whole and checked, possibly replaced. The taps still see
   * what the client sent.
   */
  readonly guard?: { readonly holds: Uint8Array; readonly check: GateCheck } | undefined;
  readonly onEnd: (reason: RelayEnd, detail?: string) => void;
}

const ERROR_RESPONSE = 0x45;
const TERMINATE_TYPE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const READY_IDLE = 0x49; // 'I'

/**
 * Passes bytes both ways after authentication: every chunk is forwarded as
 * it arrived (no copies, no reassembly), with backpressure in both
 * directions; message scanners only follow the boundaries, to enforce the
 * message size limit, to know when the session is idle, and to know when a
 * FATAL of the gateway's own may be inserted without cutting a message.
 * With the statement guard, Query and Parse messages are the exception:
 * they are held whole until checked (StatementGate).
 */
export class Relay {
  private readonly fromClient: MessageScanner;
  private readonly fromBackend: MessageScanner;
  private readonly gate: StatementGate | undefined;
  /** Bytes relayed each way, for the session's closing record. */
  bytesFromClient = 0;
  bytesFromBackend = 0;
  private ended = false;
  private lastActivity = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Durable audit: backend chunks scanned but held until their records are on disk. */
  private held: Buffer[] = [];
  /** Settles after every hold so far was released, in order. */
  private released: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Duplex,
    private readonly backend: net.Socket,
    private readonly options: RelayOptions,
  ) {
    this.fromClient = new MessageScanner(options.maxMessageLength, options.clientTap);
    this.fromBackend = new MessageScanner(0x7fffffff, options.backendTap, options.backendWatch);
    this.fromBackend.transactionStatus = options.initialTransactionStatus;
    const guard = options.guard;
    this.gate =
      guard === undefined
        ? undefined
        : new StatementGate(guard.holds, guard.check, {
            write: (bytes) => backend.write(bytes),
            resume: () => client.resume(),
            fail: (error) => this.end('error', `statement guard: ${(error as Error).message}`),
          });
  }

  /** True while the client has sent something the backend has not yet answered with ReadyForQuery. */
  private requestPending = false;

  /** Starts relaying; `toBackend`/`toClient` are bytes already read during startup. */
  start(toBackend: readonly Buffer[], toClient: Buffer): void {
    const { client, backend } = this;
    client.on('data', (chunk: Buffer) => {
      try {
        this.fromClient.scan(chunk);
      } catch (error) {
        this.refuse(error);
        return;
      }
      if (this.idleTimer !== undefined) this.lastActivity = Date.now();
      this.bytesFromClient += chunk.length;
      if (this.fromClient.lastType !== TERMINATE_TYPE) this.requestPending = true;
      // Scanned (size limit, audit tap) before the gate, so the audit sees the original.
      const flowing = this.gate === undefined ? backend.write(chunk) : this.gate.push(chunk);
      if (!flowing) client.pause();
    });
    const durableWait = this.options.durableWait;
    backend.on('data', (chunk: Buffer) => {
      // The client gets the bytes first; scanning (and the audit it feeds) comes after,
      // so recording a statement never delays its result. Durable audit is the exception.
      if (durableWait === undefined && !client.write(chunk)) backend.pause();
      try {
        this.fromBackend.scan(chunk);
      } catch {
        this.end('error', 'backend sent a malformed message');
        return;
      }
      if (durableWait !== undefined) this.forwardDurably(chunk, durableWait());
      if (this.idleTimer !== undefined) this.lastActivity = Date.now();
      this.bytesFromBackend += chunk.length;
      if (this.fromBackend.lastType === READY_FOR_QUERY && this.fromBackend.atBoundary) {
        this.requestPending = false;
      }
    });
    backend.on('drain', () => client.resume());
    client.on('drain', () => backend.resume());
    const clientLeft = (): void => {
      if (!this.ended && this.requestPending) this.options.onAbandoned();
      this.end('client-closed');
    };
    client.on('end', clientLeft);
    client.on('close', clientLeft);
    client.on('error', (error: Error) => this.end('error', `client: ${error.message}`));
    backend.on('close', () => this.afterHeld(() => this.backendGone()));
    backend.on('error', (error: Error) => this.end('error', `backend: ${error.message}`));

    // Bytes read before the relay began go through the same path as the rest.
    for (const chunk of toBackend) client.emit('data', chunk);
    if (toClient.length > 0) backend.emit('data', toClient);
    backend.resume();
    client.resume();
    if (this.options.idleTimeoutMs > 0) {
      const period = Math.min(1000, this.options.idleTimeoutMs);
      this.idleTimer = setInterval(() => this.checkIdle(), period);
      this.idleTimer.unref();
    }
  }

  /**
   * Durable audit: a chunk goes to the client once the records it completed
   * (and all before them) are written; until then it and every later chunk
   * wait, with the backend paused.
   */
  private forwardDurably(chunk: Buffer, wait: Promise<void> | undefined): void {
    if (wait === undefined && this.held.length === 0) {
      if (!this.client.write(chunk)) this.backend.pause();
      return;
    }
    this.held.push(chunk);
    this.backend.pause();
    const release = (): void => this.releaseHeld(chunk);
    this.released = this.released.then(() => wait).then(release, release);
  }

  /** Passes on the held chunks up to and including `last`. */
  private releaseHeld(last: Buffer): void {
    const chunks = this.held.splice(0, this.held.indexOf(last) + 1);
    if (this.ended || this.client.destroyed) return;
    let flowing = true;
    for (const held of chunks) flowing = this.client.write(held);
    if (flowing && this.held.length === 0) this.backend.resume();
  }

  /** Runs `then` now, or once the held chunks are passed on (durable audit). */
  private afterHeld(then: () => void): void {
    if (this.held.length === 0) then();
    else void this.released.then(then);
  }

  /** Ends the session on the gateway's initiative (shutdown). */
  terminate(reason: 'shutdown'): void {
    this.terminateWith(
      reason,
      SQLSTATE.ADMIN_SHUTDOWN,
      'terminating connection due to administrator command',
    );
  }

  /**
   * Ends the session with a FATAL of the gateway's own (sent only between two
   * of the backend's messages, so none is cut in two).
   */
  terminateWith(
    reason: RelayEnd,
    code: (typeof SQLSTATE)[keyof typeof SQLSTATE],
    message: string,
  ): void {
    this.afterHeld(() => {
      this.closeWith(code, message);
      this.end(reason);
    });
  }

  private checkIdle(): void {
    const idle =
      this.held.length === 0 &&
      this.fromBackend.transactionStatus === READY_IDLE &&
      this.fromBackend.atBoundary &&
      this.fromClient.atBoundary;
    if (idle && Date.now() - this.lastActivity >= this.options.idleTimeoutMs) {
      this.closeWith(
        SQLSTATE.IDLE_SESSION_TIMEOUT,
        'terminating connection due to idle-session timeout',
      );
      this.end('idle-timeout');
    }
  }

  private refuse(error: unknown): void {
    const framing = error instanceof FramingError ? error : undefined;
    const code = framing?.sqlState ?? SQLSTATE.PROTOCOL_VIOLATION;
    const message =
      framing?.kind === 'too-large'
        ? `message of ${framing.declaredLength} bytes exceeds the gateway limit of ${this.options.maxMessageLength} bytes`
        : `invalid message from the client: ${(error as Error).message}`;
    this.closeWith(code, message);
    this.end(framing?.kind === 'too-large' ? 'message-too-large' : 'protocol-violation', message);
  }

  /** The backend went away: tell the client why, unless the backend already did. */
  private backendGone(): void {
    if (this.ended) return;
    // After the client's Terminate the backend closing is the expected end, not news.
    const clientTerminated =
      this.fromClient.lastType === TERMINATE_TYPE && this.fromClient.atBoundary;
    if (!clientTerminated && this.fromBackend.lastType !== ERROR_RESPONSE) {
      this.closeWith(SQLSTATE.ADMIN_SHUTDOWN, 'the server closed the connection unexpectedly');
    }
    this.end('backend-closed');
  }

  /** Sends a FATAL to the client if that cannot cut one of the backend's messages in two. */
  private closeWith(code: (typeof SQLSTATE)[keyof typeof SQLSTATE], message: string): void {
    if (this.ended || !this.fromBackend.atBoundary || this.client.destroyed) return;
    this.client.write(fatal(code, message));
  }

  private end(reason: RelayEnd, detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.gate?.close();
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    // A backend that is between messages gets a polite Terminate; otherwise it is cut off.
    if (!this.backend.destroyed) {
      if (this.fromClient.atBoundary && reason !== 'backend-closed') this.backend.end(TERMINATE);
      else this.backend.destroy();
    }
    if (!this.client.destroyed) this.client.end();
    setTimeout(() => {
      this.client.destroy();
      this.backend.destroy();
    }, 5000).unref();
    this.options.onEnd(reason, detail);
  }
}
