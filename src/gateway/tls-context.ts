import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Config } from '../config/config-schema.js';
import type { GatewaySettings } from '../control/gateway-settings/gateway-settings.js';
import { messageOf, PgwardenError } from '../errors.js';
import type { DataDirLayout } from '../server/data-dir-layout.js';
import {
  type CertificateInfo,
  certificateInfo,
  ensureCertificates,
  loadCertificateFiles,
  watchCertificateFiles,
} from './tls/certificate-store.js';
import { tlsServerEndPoint } from './tls/tls-server-end-point.js';

export interface CertificatePaths {
  readonly cert: string;
  readonly key: string;
  /** pgwarden's own CA, when it issued the certificate. */
  readonly caCert: string | undefined;
}

/**
 * The gateway's TLS: the certificate (pgwarden-issued by default, or brought
 * by the user), the protocol versions from the gateway settings, and the
 * tls-server-end-point channel binding data for SCRAM-SHA-256-PLUS. A new
 * secure context is built when the settings or the files change; sessions
 * already established keep theirs.
 */
export class TlsContext {
  private context!: tls.SecureContext;
  private cert!: Buffer;
  private key!: Buffer;
  private settings: GatewaySettings | undefined;
  /** CAs client certificates must chain to; undefined: no client certificates are asked for. */
  private clientCa: Buffer | undefined;
  private stopWatching: (() => void) | undefined;
  /** RFC 5929 section 4.1 data for the current certificate. */
  endPoint!: Buffer;
  info!: CertificateInfo;

  private constructor(readonly paths: CertificatePaths) {}

  static async create(
    layout: DataDirLayout,
    config: Config['gateway']['tls'],
  ): Promise<TlsContext> {
    let paths: CertificatePaths;
    if (config.certFile !== undefined || config.keyFile !== undefined) {
      if (config.certFile === undefined || config.keyFile === undefined) {
        throw new PgwardenError(
          'PGW_CONFIG_INVALID',
          'gateway.tls needs both certFile and keyFile',
          {
            hint: "give both, or neither to use a certificate from pgwarden's own CA",
          },
        );
      }
      paths = { cert: config.certFile, key: config.keyFile, caCert: undefined };
    } else {
      const files = await ensureCertificates(layout.tlsDir, { names: config.extraNames });
      paths = { cert: files.cert, key: files.key, caCert: files.caCert };
    }
    const context = new TlsContext(paths);
    if (config.clientCaFile !== undefined) {
      try {
        context.clientCa = readFileSync(config.clientCaFile);
        new X509Certificate(context.clientCa);
      } catch (cause) {
        throw new PgwardenError(
          'PGW_CONFIG_INVALID',
          `gateway.tls.clientCaFile: ${messageOf(cause)}`,
          {
            hint: 'give a PEM file of the CA certificates that issue your client certificates',
            cause,
          },
        );
      }
    }
    context.loadFiles();
    return context;
  }

  get secureContext(): tls.SecureContext {
    return this.context;
  }

  /** Whether the handshake asks clients for a certificate (gateway.tls.clientCaFile is set). */
  get requestsClientCertificates(): boolean {
    return this.clientCa !== undefined;
  }

  applySettings(settings: GatewaySettings): void {
    this.settings = settings;
    this.rebuild();
  }

  /** Reloads the certificate when its files change on disk; a bad pair keeps the old one. */
  watch(onError: (message: string) => void): void {
    this.stopWatching = watchCertificateFiles([this.paths.cert, this.paths.key], () => {
      try {
        this.loadFiles();
      } catch (error) {
        onError(`certificate not reloaded: ${messageOf(error)}`);
      }
    });
  }

  stop(): void {
    this.stopWatching?.();
  }

  private loadFiles(): void {
    let files: { cert: Buffer; key: Buffer };
    try {
      files = loadCertificateFiles({ cert: this.paths.cert, key: this.paths.key });
    } catch (cause) {
      throw new PgwardenError('PGW_CONFIG_INVALID', messageOf(cause), {
        hint: 'gateway.tls.certFile and keyFile must be a PEM certificate and its private key',
        cause,
      });
    }
    this.cert = files.cert;
    this.key = files.key;
    const leaf = new X509Certificate(files.cert);
    this.endPoint = tlsServerEndPoint(leaf.raw);
    this.info = certificateInfo(leaf.toString());
    this.rebuild();
  }

  private rebuild(): void {
    this.context = tls.createSecureContext({
      cert: this.cert,
      key: this.key,
      minVersion: this.settings?.sslMinProtocolVersion ?? 'TLSv1.3',
      ...(this.clientCa === undefined ? {} : { ca: this.clientCa }),
      ...(this.settings?.sslMaxProtocolVersion == null
        ? {}
        : { maxVersion: this.settings.sslMaxProtocolVersion }),
    });
  }
}
