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

/** Startup responses are small; anything larger before ReadyForQuery is not PostgreSQL talking. */
const MAX_STARTUP_BYTES = 1 << 20;

/**
 * Opens a fresh backend session for one client (never a reused one) with the
 * client's own startup parameters, unchanged, and logs in as the client's role
 * by SCRAM pass-through: the ClientKey recovered from the client's proof
 * answers the backend's challenge, because both hold the same verifier.
 */
export function connectBackend(
  target: BackendTarget,
  parameters: ReadonlyMap<string, string>,
  credentials: { readonly clientKey: Buffer; readonly serverKey: Buffer },
  timeoutMs: number,
): Promise<BackendLogin> {
  return openBackend(target, timeoutMs).then(
    (socket) => login(socket, parameters, credentials, timeoutMs),
    (error: Error) => ({
      ok: false,
      reason: `backend connection failed: ${error.message}`,
      errorMessage: undefined,
    }),
  );
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

function login(
  socket: net.Socket,
  parameters: ReadonlyMap<string, string>,
  credentials: { readonly clientKey: Buffer; readonly serverKey: Buffer },
  timeoutMs: number,
): Promise<BackendLogin> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const startupMessages: Buffer[] = [];
    let backendKey: BackendKey | undefined;
    let scram: ScramClientSession | undefined;
    let settled = false;

    const fail = (reason: string, errorMessage?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, reason, errorMessage });
    };
    const timer = setTimeout(
      () => fail(`backend did not complete startup within ${timeoutMs} ms`),
      timeoutMs,
    );

    socket.on('error', (error) => fail(`backend connection failed: ${error.message}`));
    socket.on('close', () => fail('backend closed the connection during startup'));
    socket.write(serializeStartupMessage(parameters));
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_STARTUP_BYTES)
        return fail('backend sent too much before ReadyForQuery');
      let offset = 0;
      while (buffered.length - offset >= 5) {
        const type = buffered[offset] as number;
        const length = buffered.readInt32BE(offset + 1);
        if (length < 4) return fail('backend sent a malformed message');
        if (buffered.length - offset < 1 + length) break;
        const raw = buffered.subarray(offset, offset + 1 + length);
        const body = raw.subarray(5);
        offset += 1 + length;
        try {
          switch (type) {
            case BackendMessageType.AUTHENTICATION: {
              const auth = parseAuthentication(body);
              if (auth.kind === 'sasl') {
                if (!auth.mechanisms.includes('SCRAM-SHA-256'))
                  return fail('backend does not offer SCRAM-SHA-256');
                scram = new ScramClientSession({
                  clientKey: credentials.clientKey,
                  serverKey: credentials.serverKey,
                });
                const first = scram.clientFirst();
                socket.write(serializeSaslInitialResponse(first.mechanism, first.data));
              } else if (auth.kind === 'sasl-continue' && scram !== undefined) {
                socket.write(serializeSaslResponse(scram.serverFirst(auth.data)));
              } else if (auth.kind === 'sasl-final' && scram !== undefined) {
                scram.serverFinal(auth.data);
              } else if (auth.kind !== 'ok') {
                return fail(
                  `backend asked for ${auth.kind} authentication; only SCRAM-SHA-256 is used`,
                );
              }
              break;
            }
            case BackendMessageType.ERROR_RESPONSE:
              return fail(`backend refused: ${parseErrorResponse(body).message}`, Buffer.from(raw));
            case BackendMessageType.BACKEND_KEY_DATA: {
              const key = parseBackendKeyData(body);
              backendKey = { processId: key.processId, secretKey: Buffer.from(key.secretKey) };
              break;
            }
            case BackendMessageType.READY_FOR_QUERY: {
              startupMessages.push(Buffer.from(raw));
              if (backendKey === undefined) return fail('backend sent no BackendKeyData');
              settled = true;
              clearTimeout(timer);
              socket.removeAllListeners('data');
              socket.removeAllListeners('close');
              socket.removeAllListeners('error');
              socket.pause();
              resolve({
                ok: true,
                socket,
                startupMessages,
                backendKey,
                leftover: Buffer.from(buffered.subarray(offset)),
              });
              return;
            }
            default:
              // ParameterStatus, NoticeResponse, NegotiateProtocolVersion: the client sees them as sent.
              startupMessages.push(Buffer.from(raw));
          }
        } catch (error) {
          return fail(`backend login failed: ${(error as Error).message}`);
        }
      }
      buffered = buffered.subarray(offset);
    });
  });
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
