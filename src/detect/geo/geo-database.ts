import { PolledFile } from '../blocklist/polled-file.js';
import { MmdbReader } from './mmdb-reader.js';
import type { MmdbValue } from './mmdb-value.js';

/**
 * A GeoIP/ASN database file the user supplies (detection.geoip), re-opened
 * when it changes (MaxMind publishes new GeoLite2 files twice a week; a cron
 * job replacing the file is picked up within seconds, no restart). Lookups
 * never throw: a file damaged in a way the metadata check did not catch is
 * reported once and answers nothing.
 */
export class GeoDatabase {
  private lookupProblem: string | undefined;

  private constructor(
    private readonly file: PolledFile<MmdbReader>,
    private readonly onWarning: (message: string) => void,
  ) {}

  /** Reads the file once before returning; a missing or invalid file is reported, not thrown. */
  static async open(
    path: string,
    onWarning: (message: string) => void,
    intervalMs?: number,
  ): Promise<GeoDatabase> {
    const file = new PolledFile(
      path,
      (content) => new MmdbReader(content, 'the file'),
      onWarning,
      intervalMs,
    );
    await file.refresh();
    return new GeoDatabase(file, onWarning);
  }

  get path(): string {
    return this.file.path;
  }

  /** True once a version of the file was read. */
  get loaded(): boolean {
    return this.file.current() !== undefined;
  }

  /** Re-reads the file now if it changed (checks also happen by themselves, see PolledFile). */
  refresh(): Promise<void> {
    return this.file.refresh();
  }

  lookup(address: string): MmdbValue | undefined {
    const reader = this.file.current();
    if (reader === undefined) return undefined;
    try {
      return reader.lookup(address);
    } catch (error) {
      const message = `${this.file.path}: ${error instanceof Error ? error.message : String(error)}`;
      if (message !== this.lookupProblem) {
        this.lookupProblem = message;
        this.onWarning(message);
      }
      return undefined;
    }
  }
}
