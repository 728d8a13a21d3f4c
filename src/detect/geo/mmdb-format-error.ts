import { PgwardenError } from '../../errors.js';

/**
 * A MaxMind DB file that does not follow the format: truncated, corrupt, or
 * not an .mmdb at all. Says where, so a bad download is easy to tell apart
 * from a bug.
 */
export function mmdbFormatError(source: string, reason: string, offset?: number): PgwardenError {
  const where = offset === undefined ? '' : ` (at byte ${offset})`;
  return new PgwardenError(
    'PGW_CONFIG_INVALID',
    `${source} is not a valid MaxMind DB: ${reason}${where}`,
    {
      hint: 'download the database again (GeoLite2/GeoIP2 .mmdb), or remove it from detection.geoip in pgwarden.yaml',
    },
  );
}
