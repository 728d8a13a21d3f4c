import type net from 'node:net';
import tls from 'node:tls';

export type TlsUpgrade =
  | {
      readonly ok: true;
      readonly socket: tls.TLSSocket;
      /** A client certificate was asked for, presented, and verified against the client CAs. */
      readonly clientCertificate: boolean;
    }
  /** `socket` is set when TLS is up but the client may not continue (no ALPN): refuse over TLS. */
  | { readonly ok: false; readonly reason: string; readonly socket?: tls.TLSSocket };

/**
 * Starts TLS on an accepted socket: after an SSLRequest answered 'S', or
 * directly when the client's first bytes are a ClientHello (PostgreSQL 17
 * `sslnegotiation=direct`, which must offer ALPN "postgresql": docs 55.2.10).
 * The versions allowed come from the secure context (ssl_min/max_protocol_version).
 */
/**
 * Whether the client presented a certificate that chains to the configured
 * CAs. A TLSSocket made by hand (not by tls.Server) does not set `authorized`,
 * so the handshake's own verification result is read the way tls.Server reads
 * it (RFC 8446 section 4.4.2); anything unexpected counts as no certificate.
 */
function clientCertificateVerified(socket: tls.TLSSocket): boolean {
  if (socket.getPeerX509Certificate() === undefined) return false;
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (typeof handle?.verifyError !== 'function') return false;
  return handle.verifyError() === null;
}

export function upgradeToTls(
  socket: net.Socket,
  secureContext: tls.SecureContext,
  options: {
    readonly direct: Buffer | undefined;
    /**
     * Ask for a client certificate. It stays optional: a client without one,
     * or with one the CAs do not vouch for, still connects, and
     * `socket.authorized` says whether a verified certificate was presented.
     */
    readonly requestCert?: boolean;
  },
): Promise<TlsUpgrade> {
  return new Promise((resolve) => {
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: ['postgresql'],
      requestCert: options.requestCert === true,
      rejectUnauthorized: false,
    });
    if (options.direct !== undefined) {
      // TLS reads from the socket's native handle, so the ClientHello bytes the
      // gateway already read to recognise direct TLS must be handed to it;
      // Node's own _tls_wrap does the same with TLSWrap.receive().
      const handle = (secure as unknown as { _handle?: { receive?: (data: Buffer) => void } })
        ._handle;
      if (typeof handle?.receive !== 'function') {
        resolve({ ok: false, reason: 'direct TLS is not supported by this Node.js version' });
        return;
      }
      handle.receive(options.direct);
    }
    let settled = false;
    const done = (result: TlsUpgrade): void => {
      if (settled) return;
      settled = true;
      secure.off('secure', onSecure);
      secure.off('error', onError);
      secure.off('close', onClose);
      resolve(result);
    };
    const onSecure = (): void => {
      if (options.direct !== undefined && secure.alpnProtocol !== 'postgresql') {
        done({
          ok: false,
          reason: 'direct TLS connection without ALPN protocol "postgresql"',
          socket: secure,
        });
        return;
      }
      done({
        ok: true,
        socket: secure,
        clientCertificate: options.requestCert === true && clientCertificateVerified(secure),
      });
    };
    const onError = (error: Error): void =>
      done({ ok: false, reason: `TLS handshake failed: ${error.message}` });
    const onClose = (): void =>
      done({ ok: false, reason: 'client closed the connection during the TLS handshake' });
    secure.once('secure', onSecure);
    secure.once('error', onError);
    secure.once('close', onClose);
    socket.resume();
  });
}
