import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of alert webhook deliveries: HMAC (RFC 2104) with SHA-256
 * (RFC 6234) over `timestamp + "." + body`, the timestamp in Unix seconds.
 * Signing the timestamp with the body lets a receiver refuse replays older
 * than REPLAY_WINDOW_SECONDS; the `v1=` prefix leaves room for another
 * scheme later. Headers: X-Pgwarden-Timestamp and X-Pgwarden-Signature.
 */
export const TIMESTAMP_HEADER = 'x-pgwarden-timestamp';
export const SIGNATURE_HEADER = 'x-pgwarden-signature';
export const DELIVERY_HEADER = 'x-pgwarden-delivery';

/** How old a delivery a receiver should still accept (and how far in the future). */
export const REPLAY_WINDOW_SECONDS = 300;

/** RFC 2104 section 3: keys shorter than the hash output (32 bytes for SHA-256) are discouraged. */
export const MIN_SECRET_BYTES = 32;

/** The X-Pgwarden-Signature value for a body sent at `timestamp` (Unix seconds, as in the header). */
export function webhookSignature(secret: Buffer, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

export type SignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * What a receiver does (in any language): recompute the HMAC over the raw
 * body bytes as received, compare in constant time, and refuse a timestamp
 * outside the replay window. Also dedupe on X-Pgwarden-Delivery: a retried
 * delivery keeps its id.
 */
export function verifyWebhookSignature(
  secret: Buffer,
  headers: { readonly timestamp: string | undefined; readonly signature: string | undefined },
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const { timestamp, signature } = headers;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - Number(timestamp)) > REPLAY_WINDOW_SECONDS)
    return { ok: false, reason: 'stale' };
  // Over the header's text as received, not a re-formatted number.
  const expected = Buffer.from(webhookSignature(secret, timestamp, body));
  // Several signatures may come comma-separated (e.g. during a key change): one must match.
  for (const candidate of signature.split(',')) {
    const given = Buffer.from(candidate.trim());
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'mismatch' };
}
