import net from 'node:net';
import { parseAuthentication } from '../../protocol/backend/authentication.js';
import { parseBackendKeyData } from '../../protocol/backend/backend-key-data.js';
import { parseErrorResponse } from '../../protocol/backend/error-response.js';
import { serializeSaslInitialResponse } from '../../protocol/frontend/sasl-initial-response.js';
import { serializeSaslResponse } from '../../protocol/frontend/sasl-response.js';
import { SSL_REQUEST, serializeStartupMessage } from '../../protocol/frontend/startup-packet.js';
import { BackendMessageType } from '../../protocol/message-types.js';
import { ScramClientSession } from '../auth/scram-client.js';
import type { BackendKey } from '../session-registry.js';
import { type BackendTlsOptions, startBackendTls } from './backend-tls.js';

/** Where the gateway's backend sessions go: the managed server's private socket, or an external server. */
export type BackendTarget =
  | { readonly kind: 'managed'; readonly socketPath: string }
  | {
      readonly kind: 'external';
      readonly host: string;
      readonly port: number;
      readonly tls: BackendTlsOptions;
    };

export type BackendLogin =
  | {
      readonly ok: true;
      readonly socket: net.Socket;
      /** The backend's messages from after AuthenticationOk up to and including ReadyForQuery, BackendKeyData removed. */
      readonly startupMessages: readonly Buffer[];
      readonly backendKey: BackendKey;
      /** Bytes the backend sent after ReadyForQuery (normally none). */
      readonly leftover: Buffer;
    }
  | {
      readonly ok: false;
      /** The backend's ErrorResponse, to pass on to the client as it is. */
      readonly errorMessage: Buffer | undefined;
      readonly reason: string;
    };

const PASSWORDLESS_REFUSED =
  'the backend asked for a password for a token login; the role must be a member of pgwarden_token_login';

/** Startup responses are small; anything larger before ReadyForQuery is not PostgreSQL talking. */
const MAX_STARTUP_BYTES = 1 << 20;

export interface Credentials {
  readonly clientKey: Buffer;
  readonly serverKey: Buffer;
}

/** Connects to the backend; for an external server with TLS, SSLRequest first (docs 55.2.10). */
function openBackend(target: BackendTarget, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      target.kind === 'managed'
        ? net.connect({ path: target.socketPath })
        : net.connect({ host: target.host, port: target.port });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no answer within ${timeoutMs} ms`)),
    );
    socket.once('error', reject);
    socket.once('connect', () => {
      if (target.kind === 'managed') {
        socket.setTimeout(0);
        socket.off('error', reject);
        resolve(socket);
        return;
      }
      if (target.kind === 'external') socket.setNoDelay(true);
      if (target.tls.mode === 'disable') {
        socket.setTimeout(0);
        socket.off('error', reject);
        resolve(socket);
        return;
      }
      socket.write(SSL_REQUEST);
      socket.once('data', (answer: Buffer) => {
        if (answer.length !== 1 || answer[0] !== 0x53) {
          socket.destroy();
          reject(new Error('the backend does not accept TLS (answered the SSLRequest with no)'));
          return;
        }
        startBackendTls(socket, target.tls).then(
          (secure) => {
            socket.setTimeout(0);
            socket.off('error', reject);
            resolve(secure);
          },
          (error: Error) => {
            socket.destroy();
            reject(new Error(`TLS to the backend failed: ${error.message}`));
          },
        );
      });
    });
  });
}

/**
 * A backend session being opened. It can start before the client has proved
 * who it is, so PostgreSQL's process start overlaps the client's SCRAM round
 * trips; it then waits at the backend's SASL challenge until `authenticate`
 * brings the credentials, or is dropped with `abort`. It is never reused.
 */
export class PendingBackend {
  private credentials: Credentials | undefined;
  private scram: ScramClientSession | undefined;
  private socket: net.Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly startupMessages: Buffer[] = [];
  private backendKey: BackendKey | undefined;
  /** The backend asked for SASL before the credentials were there. */
  private parked = false;
  /** The caller has no credentials: the backend must not ask for any. */
  private passwordless = false;
  /** authenticate() was called: the socket belongs to the caller once the login succeeds. */
  private handedOver = false;
  private settled = false;
  private readonly timer: NodeJS.Timeout;
  private resolveResult!: (login: BackendLogin) => void;
  private readonly result = new Promise<BackendLogin>((resolve) => {
    this.resolveResult = resolve;
  });

  private constructor(timeoutMs: number) {
    this.timer = setTimeout(
      () => this.fail(`backend did not complete startup within ${timeoutMs} ms`),
      timeoutMs,
    );
    this.timer.unref();
  }

  static start(
    target: BackendTarget,
    parameters: ReadonlyMap<string, string>,
    timeoutMs: number,
  ): PendingBackend {
    const pending = new PendingBackend(timeoutMs);
    openBackend(target, timeoutMs).then(
      (socket) => pending.attach(socket, parameters),
      (error: Error) => pending.fail(`backend connection failed: ${error.message}`),
    );
    return pending;
  }

  /**
   * Hands over the client's SCRAM keys, or `undefined` for a role the backend
   * admits without a password (a token login, ADR 11): asked for SCRAM then,
   * the login fails.
   */
  authenticate(credentials: Credentials | undefined): Promise<BackendLogin> {
    this.handedOver = true;
    if (credentials === undefined) {
      this.passwordless = true;
      if (this.parked) this.fail(PASSWORDLESS_REFUSED);
      return this.result;
    }
    this.credentials = credentials;
    if (this.parked) {
      this.parked = false;
      this.sendInitialResponse();
    }
    return this.result;
  }

  /** Drops the session; also one the backend had already let in (without a password). */
  abort(): void {
    this.fail('aborted: the client did not authenticate');
    if (!this.handedOver) this.socket?.destroy();
  }

  private attach(socket: net.Socket, parameters: ReadonlyMap<string, string>): void {
    if (this.settled) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.on('error', (error) => this.fail(`backend connection failed: ${error.message}`));
    socket.on('close', () => this.fail('backend closed the connection during startup'));
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.write(serializeStartupMessage(parameters));
  }

  private sendInitialResponse(): void {
    const credentials = this.credentials as Credentials;
    this.scram = new ScramClientSession({
      clientKey: credentials.clientKey,
      serverKey: credentials.serverKey,
    });
    const first = this.scram.clientFirst();
    this.socket?.write(serializeSaslInitialResponse(first.mechanism, first.data));
  }

  private data(chunk: Buffer): void {
    if (this.settled) return;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.buffered.length > MAX_STARTUP_BYTES) {
      this.fail('backend sent too much before ReadyForQuery');
      return;
    }
    let offset = 0;
    while (this.buffered.length - offset >= 5) {
      const type = this.buffered[offset] as number;
      const length = this.buffered.readInt32BE(offset + 1);
      if (length < 4) {
        this.fail('backend sent a malformed message');
        return;
      }
      if (this.buffered.length - offset < 1 + length) break;
      const raw = this.buffered.subarray(offset, offset + 1 + length);
      offset += 1 + length;
      try {
        if (this.handle(type, raw)) {
          this.succeed(Buffer.from(this.buffered.subarray(offset)));
          return;
        }
      } catch (error) {
        this.fail(`backend login failed: ${(error as Error).message}`);
        return;
      }
      if (this.settled) return;
    }
    this.buffered = this.buffered.subarray(offset);
  }

  /** Handles one backend message; true at ReadyForQuery. */
  private handle(type: number, raw: Buffer): boolean {
    const body = raw.subarray(5);
    switch (type) {
      case BackendMessageType.AUTHENTICATION: {
        const auth = parseAuthentication(body);
        if (auth.kind === 'sasl') {
          if (!auth.mechanisms.includes('SCRAM-SHA-256'))
            this.fail('backend does not offer SCRAM-SHA-256');
          else if (this.passwordless) this.fail(PASSWORDLESS_REFUSED);
          else if (this.credentials === undefined) this.parked = true;
          else this.sendInitialResponse();
        } else if (auth.kind === 'sasl-continue' && this.scram !== undefined) {
          this.socket?.write(serializeSaslResponse(this.scram.serverFirst(auth.data)));
        } else if (auth.kind === 'sasl-final' && this.scram !== undefined) {
          this.scram.serverFinal(auth.data);
        } else if (auth.kind !== 'ok') {
          this.fail(`backend asked for ${auth.kind} authentication; only SCRAM-SHA-256 is used`);
        }
        return false;
      }
      case BackendMessageType.ERROR_RESPONSE:
        this.fail(`backend refused: ${parseErrorResponse(body).message}`, Buffer.from(raw));
        return false;
      case BackendMessageType.BACKEND_KEY_DATA: {
        const key = parseBackendKeyData(body);
        this.backendKey = { processId: key.processId, secretKey: Buffer.from(key.secretKey) };
        return false;
      }
      case BackendMessageType.READY_FOR_QUERY:
        this.startupMessages.push(Buffer.from(raw));
        if (this.backendKey === undefined) {
          this.fail('backend sent no BackendKeyData');
          return false;
        }
        return true;
      default:
        // ParameterStatus, NoticeResponse, NegotiateProtocolVersion: the client sees them as sent.
        this.startupMessages.push(Buffer.from(raw));
        return false;
    }
  }

  private succeed(leftover: Buffer): void {
    const socket = this.socket as net.Socket;
    this.settled = true;
    clearTimeout(this.timer);
    socket.removeAllListeners('data');
    socket.removeAllListeners('close');
    socket.removeAllListeners('error');
    socket.pause();
    this.resolveResult({
      ok: true,
      socket,
      startupMessages: this.startupMessages,
      backendKey: this.backendKey as BackendKey,
      leftover,
    });
  }

  private fail(reason: string, errorMessage?: Buffer): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
    this.resolveResult({ ok: false, reason, errorMessage });
  }
}

/** Sends a CancelRequest with the backend's real key (docs 55.2.8); fire and forget. */
export function forwardCancel(target: BackendTarget, request: Buffer): void {
  const socket =
    target.kind === 'managed'
      ? net.connect({ path: target.socketPath })
      : net.connect({ host: target.host, port: target.port });
  socket.on('error', () => undefined);
  socket.on('connect', () => socket.end(request));
}
