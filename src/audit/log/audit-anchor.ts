import { createHmac, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';

/**
 * The anchor: the seq and MAC of the last record written, kept beside the key
 * (outside the log directory) and sealed with the key. A chain proves every
 * record up to its last one, but records cut off the end leave no trace; the
 * anchor remembers where the end was, so `audit verify` reports a truncated
 * tail, and a writer that resumes from a shorter log records the loss in the
 * chain (`audit.tail-missing`). Someone who can write both the log and the
 * anchor can still roll both back together: ship records to a sink for that.
 *
 * The file is one fixed-size line rewritten in place after each batch
 * (no rename, so no directory churn): `{"seq":N,"mac":"…","time":"…","seal":"…"}`
 * padded with spaces. seal = base64url(HMAC-SHA-256(key, "pgwarden-audit-anchor\n"
 * + seq + "\n" + mac + "\n" + time)); the prefix keeps it from ever equalling a
 * record MAC (RFC 2104 HMAC).
 */
export interface AuditAnchor {
  readonly seq: number;
  readonly mac: string;
  readonly time: string;
}

const ANCHOR_BYTES = 256;

function seal(key: Buffer, anchor: AuditAnchor): string {
  return createHmac('sha256', key)
    .update(`pgwarden-audit-anchor\n${anchor.seq}\n${anchor.mac}\n${anchor.time}`)
    .digest('base64url');
}

/** The anchor's line, padded so each rewrite covers the previous one entirely. */
export function anchorText(key: Buffer, anchor: AuditAnchor): Buffer {
  const json = JSON.stringify({ ...anchor, seal: seal(key, anchor) });
  return Buffer.from(`${json.padEnd(ANCHOR_BYTES - 1, ' ')}\n`);
}

/**
 * Reads the anchor: undefined when there is none, 'invalid' when it does not
 * parse or its seal does not verify with the key (torn, forged, or another key's).
 */
export async function readAnchor(
  file: string,
  key: Buffer,
): Promise<AuditAnchor | 'invalid' | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  const record = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    !Number.isSafeInteger(record.seq) ||
    typeof record.mac !== 'string' ||
    typeof record.time !== 'string' ||
    typeof record.seal !== 'string'
  ) {
    return 'invalid';
  }
  const anchor = { seq: record.seq as number, mac: record.mac, time: record.time };
  const expected = Buffer.from(seal(key, anchor));
  const actual = Buffer.from(record.seal);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return 'invalid';
  return anchor;
}

/**
 * The writer's side: one open file, rewritten in place. Updates never wait:
 * while one is being written, only the newest of the next ones is kept.
 */
export class AnchorFile {
  private next: AuditAnchor | undefined;
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly handle: FileHandle,
    private readonly key: Buffer,
    private readonly onError: (cause: unknown) => void,
  ) {}

  static async open(
    file: string,
    key: Buffer,
    onError: (cause: unknown) => void,
  ): Promise<AnchorFile> {
    // Not 'w': truncating first would leave an empty anchor if we crashed before the rewrite.
    const handle = await open(file, constants.O_RDWR | constants.O_CREAT, 0o600);
    return new AnchorFile(handle, key, onError);
  }

  /** Records that the log now ends at `anchor`. */
  update(anchor: AuditAnchor): void {
    this.next = anchor;
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
  }

  /** Writes the last update, then closes the file. */
  async close(): Promise<void> {
    await this.writing;
    await this.handle.close().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    for (let anchor = this.next; anchor !== undefined; anchor = this.next) {
      this.next = undefined;
      const text = anchorText(this.key, anchor);
      try {
        await this.handle.write(text, 0, text.length, 0);
      } catch (cause) {
        this.onError(cause);
      }
    }
  }
}
