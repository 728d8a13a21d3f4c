import { readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import type { BackendConfig } from '../../config/config-schema.js';

/** TLS options for the link from the gateway to an external backend. */
export interface BackendTlsOptions {
  readonly mode: 'verify-full' | 'require' | 'disable';
  readonly ca: Buffer | undefined;
  readonly serverName: string;
}

export function backendTlsOptions(config: BackendConfig): BackendTlsOptions {
  return {
    mode: config.tls.mode,
    ca: config.tls.caFile === undefined ? undefined : readFileSync(config.tls.caFile),
    serverName: config.tls.serverName ?? config.host,
  };
}

/**
 * Starts TLS on a connected backend socket after the server answered 'S' to
 * an SSLRequest. verify-full checks the chain (against caFile, or the system
 * store) and the name, as libpq's sslmode=verify-full does; require encrypts
 * without checking who is on the other side.
 */
export function startBackendTls(
  socket: net.Socket,
  options: BackendTlsOptions,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      servername: options.serverName,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      rejectUnauthorized: options.mode === 'verify-full',
      ALPNProtocols: ['postgresql'],
      minVersion: 'TLSv1.2',
    });
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', reject);
  });
}
