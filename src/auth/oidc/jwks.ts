import { stat } from 'node:fs/promises';
import type { VerificationKey } from './jwk.js';
import type { JwsHeader } from './jws.js';
import { type KeySet, parseKeySet, type RejectedKey } from './key-set.js';
import { checkJwksUrl, fetchJwks, readJwksFile } from './load-jwks.js';
import { quoteUntrusted, TokenError } from './token-error.js';

export interface JwksSourceOptions {
  /**
   * Least time between two fetches of a jwks_uri, whatever asks for them
   * (first load, unknown kid, age). Bounds what a client spraying random
   * kids can make us send to the identity provider. Default 60 s.
   */
  readonly minRefreshIntervalMs?: number;
  /** Age after which using the set starts a refresh in the background. Default 1 h. */
  readonly maxAgeMs?: number;
  /** Whole-request timeout of a fetch, body included. Default 5 s. */
  readonly timeoutMs?: number;
  /** Largest key set document accepted, fetched or read. Default 1 MiB. */
  readonly maxBytes?: number;
  /** Tests only: allow http:// for 127.0.0.1, [::1] and localhost. */
  readonly allowInsecureLoopbackHttp?: boolean;
  /** Clock in milliseconds, for tests. Default Date.now. */
  readonly now?: () => number;
}

export interface JwksStatus {
  readonly source: string;
  /** When the set in use was loaded (ms), undefined before the first success. */
  readonly loadedAt: number | undefined;
  readonly kids: readonly (string | undefined)[];
  readonly rejected: readonly RejectedKey[];
  /** Why the last load failed, if it did; the previous set is still served. */
  readonly lastError: string | undefined;
}

type Lookup =
  | { readonly key: VerificationKey }
  | { readonly error: TokenError; readonly refreshMightHelp: boolean };

const DEFAULTS = {
  minRefreshIntervalMs: 60_000,
  maxAgeMs: 3_600_000,
  timeoutMs: 5_000,
  maxBytes: 1024 * 1024,
} as const;

/**
 * An issuer's JSON Web Key Set (RFC 7517 §5), from a jwks_uri or a file,
 * cached by kid. A failed refresh keeps the last good set in service.
 *
 *  - URL: fetched on first use, again when a token names an unknown kid and
 *    in the background once the set is older than maxAgeMs; never more than
 *    once per minRefreshIntervalMs, with concurrent callers sharing a fetch.
 *  - File: re-read whenever its inode, size or mtime changes, so keys can be
 *    rotated offline by replacing the file.
 */
export class JwksSource {
  readonly #source: string;
  readonly #read: () => Promise<unknown>;
  readonly #kind: 'url' | 'file' | 'fixed';
  readonly #path: string | undefined;
  readonly #minRefreshIntervalMs: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #set: KeySet | undefined;
  #loadedAt: number | undefined;
  #lastAttemptAt: number | undefined;
  #lastError: TokenError | undefined;
  #inflight: Promise<void> | undefined;
  #fileVersion: string | undefined;

  private constructor(init: {
    source: string;
    read: () => Promise<unknown>;
    kind: 'url' | 'file' | 'fixed';
    path?: string;
    options: JwksSourceOptions;
  }) {
    this.#source = init.source;
    this.#read = init.read;
    this.#kind = init.kind;
    this.#path = init.path;
    this.#minRefreshIntervalMs = init.options.minRefreshIntervalMs ?? DEFAULTS.minRefreshIntervalMs;
    this.#maxAgeMs = init.options.maxAgeMs ?? DEFAULTS.maxAgeMs;
    this.#now = init.options.now ?? Date.now;
  }

  /** A key set served at `uri` (https; see allowInsecureLoopbackHttp). Nothing is fetched yet. */
  static fromUrl(uri: string, options: JwksSourceOptions = {}): JwksSource {
    const url = checkJwksUrl(uri, options.allowInsecureLoopbackHttp ?? false);
    const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    const source = `key set ${url.origin}${url.pathname}`;
    return new JwksSource({
      source,
      kind: 'url',
      options,
      read: () => fetchJwks(url, source, timeoutMs, maxBytes),
    });
  }

  /** A key set in a JSON file. Nothing is read yet. */
  static fromFile(path: string, options: Pick<JwksSourceOptions, 'maxBytes'> = {}): JwksSource {
    const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    return new JwksSource({
      source: `key set file ${path}`,
      kind: 'file',
      path,
      options,
      read: () => readJwksFile(path, maxBytes),
    });
  }

  /** A fixed key set, e.g. from inline configuration. Throws TokenError 'jwks-invalid'. */
  static fromDocument(document: unknown): JwksSource {
    const source = new JwksSource({
      source: 'inline key set',
      kind: 'fixed',
      options: {},
      read: () => Promise.resolve(document),
    });
    source.#install(parseKeySet(document));
    return source;
  }

  /**
   * Loads the set now, ignoring the refresh interval (for start-up, so a bad
   * configuration fails early). Throws the TokenError of a failed load.
   */
  async load(): Promise<void> {
    if (this.#kind === 'file') this.#fileVersion = await this.#fileVersionNow();
    await (this.#inflight ?? this.#startReload());
    if (this.#lastError !== undefined) throw this.#lastError;
  }

  /**
   * The key for a token header: by kid, or the only key for its algorithm
   * when the token has no kid. Throws TokenError 'unknown-kid',
   * 'kid-required', 'key-mismatch', 'invalid-key', 'weak-key' or
   * 'jwks-unavailable'.
   */
  async getKey(header: Pick<JwsHeader, 'alg' | 'kid'>): Promise<VerificationKey> {
    await this.#freshen();
    let found = this.#lookup(header);
    if ('error' in found && found.refreshMightHelp && this.#kind === 'url') {
      await this.#refresh();
      found = this.#lookup(header);
    }
    if ('error' in found) throw found.error;
    return found.key;
  }

  get status(): JwksStatus {
    return {
      source: this.#source,
      loadedAt: this.#loadedAt,
      kids: this.#set?.keys.map((key) => key.kid) ?? [],
      rejected: this.#set?.rejected ?? [],
      lastError: this.#lastError?.message,
    };
  }

  async #freshen(): Promise<void> {
    if (this.#kind === 'url') {
      if (this.#set === undefined) await this.#refresh();
      else if (this.#now() - (this.#loadedAt ?? 0) >= this.#maxAgeMs) void this.#refresh();
    } else if (this.#kind === 'file') {
      const version = await this.#fileVersionNow();
      if (version === undefined || version === this.#fileVersion) return;
      // Recorded before reading: a change during the read shows at the next stat.
      this.#fileVersion = version;
      await (this.#inflight ?? this.#startReload());
    }
  }

  /** Starts a rate-limited reload, or joins the one under way. */
  #refresh(): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight;
    const last = this.#lastAttemptAt;
    if (last !== undefined && this.#now() - last < this.#minRefreshIntervalMs)
      return Promise.resolve();
    return this.#startReload();
  }

  #startReload(): Promise<void> {
    this.#lastAttemptAt = this.#now();
    const reload = this.#read()
      .then((document) => this.#install(parseKeySet(document)))
      .catch((error: unknown) => {
        this.#lastError =
          error instanceof TokenError
            ? error
            : new TokenError('jwks-unavailable', `loading ${this.#source} failed`, {
                cause: error,
              });
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    this.#inflight = reload;
    return reload;
  }

  #install(set: KeySet): void {
    this.#set = set;
    this.#loadedAt = this.#now();
    this.#lastError = undefined;
  }

  async #fileVersionNow(): Promise<string | undefined> {
    try {
      const info = await stat(this.#path ?? '');
      return `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      this.#lastError = new TokenError('jwks-unavailable', `${this.#source} cannot be read`, {
        cause: error,
      });
      return undefined;
    }
  }

  #lookup(header: Pick<JwsHeader, 'alg' | 'kid'>): Lookup {
    const set = this.#set;
    if (set === undefined) {
      const why = this.#lastError === undefined ? '' : `: ${this.#lastError.message}`;
      const error = new TokenError('jwks-unavailable', `${this.#source} is not loaded${why}`, {
        cause: this.#lastError,
      });
      return { error, refreshMightHelp: false };
    }
    const { alg, kid } = header;
    if (kid !== undefined) {
      const named = set.keys.filter((key) => key.kid === kid);
      const key = named.find((candidate) => candidate.alg === alg);
      if (key !== undefined) return { key };
      const label = quoteUntrusted(kid);
      if (named.length > 0) {
        const message = `key ${label} is for ${named[0]?.alg}; the token is ${alg}`;
        return { error: new TokenError('key-mismatch', message), refreshMightHelp: false };
      }
      const rejected = set.rejected.find((entry) => entry.kid === kid);
      if (rejected !== undefined)
        return {
          error: new TokenError(rejected.reason, rejected.message),
          refreshMightHelp: false,
        };
      const message = `no key in ${this.#source} has kid ${label}`;
      return { error: new TokenError('unknown-kid', message), refreshMightHelp: true };
    }
    const candidates = set.keys.filter((key) => key.alg === alg);
    const [only] = candidates;
    if (candidates.length === 1 && only !== undefined) return { key: only };
    const message = `the token has no kid, and ${this.#source} holds ${candidates.length} ${alg} keys, not 1`;
    return {
      error: new TokenError('kid-required', message),
      refreshMightHelp: candidates.length === 0,
    };
  }
}
