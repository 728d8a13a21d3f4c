import { readFileSync, statSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import type { DetectionConfig } from '../../config/config-schema.js';
import { PgwardenError } from '../../errors.js';
import type { AlertSeverity } from '../alert-catalog.js';
import { MIN_SECRET_BYTES } from './webhook-signature.js';

/** One `detection.webhooks` entry, checked, with its key read. */
export interface WebhookTarget {
  readonly url: URL;
  /** The URL for logs: no user info, no query (either may carry a token). */
  readonly label: string;
  readonly secret: Buffer;
  readonly minSeverity: AlertSeverity;
}

/**
 * Checks the configured webhooks before the gateway starts: each URL is
 * https, or http to a loopback address (alerts and their evidence never
 * cross a network in the clear), and each key file is private (mode 0600,
 * like the other secret files) and long enough. Throws PgwardenError
 * PGW_CONFIG_INVALID naming the entry; the key never appears in a message.
 */
export function webhookTargets(config: DetectionConfig['webhooks']): WebhookTarget[] {
  return config.map((entry, index) => {
    const where = `detection.webhooks[${index}]`;
    const url = new URL(entry.url);
    const label = `${url.protocol}//${url.host}${url.pathname}`;
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
      throw new PgwardenError('PGW_CONFIG_INVALID', `${where}: ${label} is not https`, {
        hint: 'use an https:// URL; plain http:// is accepted only to a loopback address (127.0.0.1, ::1, localhost)',
      });
    }
    if (url.username !== '' || url.password !== '') {
      throw new PgwardenError('PGW_CONFIG_INVALID', `${where}: ${label} has user info`, {
        hint: 'remove user:password@ from the URL: the signature authenticates each delivery (docs/detection.md)',
      });
    }
    return {
      url,
      label,
      secret: readWebhookSecret(entry.secretFile, where),
      minSeverity: entry.minSeverity,
    };
  });
}

function readWebhookSecret(file: string, where: string): Buffer {
  let text: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      throw new PgwardenError(
        'PGW_CONFIG_INVALID',
        `${where}: secretFile ${file} is readable by group or others`,
        { hint: `chmod 600 ${file}: it holds the key that signs alert deliveries` },
      );
    }
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (error instanceof PgwardenError) throw error;
    throw new PgwardenError('PGW_CONFIG_INVALID', `${where}: cannot read secretFile ${file}`, {
      hint: `create it with mode 0600: (umask 077; openssl rand -hex 32 > ${file})`,
      cause: error,
    });
  }
  const secret = Buffer.from(text, 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new PgwardenError(
      'PGW_CONFIG_INVALID',
      `${where}: the key in ${file} is shorter than ${MIN_SECRET_BYTES} bytes`,
      { hint: `put a long random key in it: (umask 077; openssl rand -hex 32 > ${file})` },
    );
  }
  return secret;
}

/** Loopback by name or address (URL hostnames keep IPv6 in brackets). */
function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return isIPv4(hostname) && hostname.startsWith('127.');
}
