import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** The backend's own cancel key, which clients never see. */
export interface BackendKey {
  readonly processId: number;
  readonly secretKey: Buffer;
}

export interface SessionEntry {
  readonly id: number;
  readonly address: string;
  user: string | undefined;
  /** The key the gateway gave the client (BackendKeyData), and the backend's. */
  clientKey: BackendKey | undefined;
  backendKey: BackendKey | undefined;
}

export interface Limits {
  readonly maxConnections: number;
  readonly maxConnectionsPerRole: number;
  readonly maxConnectionsPerAddress: number;
}

/**
 * Every live client session: connection limits, and the gateway's own cancel
 * keys (PostgreSQL docs 55.2.8 "Canceling Requests in Progress"). A client
 * gets a random key of the gateway's; a CancelRequest quoting it is sent on to
 * the backend with the backend's real key, so no client learns another's.
 */
export class SessionRegistry {
  private readonly sessions = new Map<number, SessionEntry>();
  private readonly byClientPid = new Map<number, SessionEntry>();
  private nextId = 1;
  private earlyBackends = 0;

  constructor(private limits: Limits) {}

  /**
   * Backends opened before their client has authenticated hold a PostgreSQL
   * connection slot each; at most this many may exist at once, so a peer that
   * knows a role name but not its password cannot fill the server.
   */
  static readonly MAX_EARLY_BACKENDS = 8;

  reserveEarlyBackend(): boolean {
    if (this.earlyBackends >= SessionRegistry.MAX_EARLY_BACKENDS) return false;
    this.earlyBackends++;
    return true;
  }

  releaseEarlyBackend(): void {
    this.earlyBackends--;
  }

  setLimits(limits: Limits): void {
    this.limits = limits;
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): SessionEntry[] {
    return [...this.sessions.values()];
  }

  /** Registers a new connection, or says which limit it would break. */
  open(address: string): SessionEntry | 'max-connections' | 'per-address' {
    if (this.sessions.size >= this.limits.maxConnections) return 'max-connections';
    if (
      this.limits.maxConnectionsPerAddress > 0 &&
      this.count((s) => s.address === address) >= this.limits.maxConnectionsPerAddress
    ) {
      return 'per-address';
    }
    const entry: SessionEntry = {
      id: this.nextId++,
      address,
      user: undefined,
      clientKey: undefined,
      backendKey: undefined,
    };
    this.sessions.set(entry.id, entry);
    return entry;
  }

  /** Records the authenticated role; false when the per-role limit is reached. */
  assignUser(entry: SessionEntry, user: string): boolean {
    if (
      this.limits.maxConnectionsPerRole > 0 &&
      this.count((s) => s.user === user) >= this.limits.maxConnectionsPerRole
    ) {
      return false;
    }
    entry.user = user;
    return true;
  }

  /** Issues the client's cancel key for a session whose backend key is known. */
  issueKey(entry: SessionEntry, backendKey: BackendKey): BackendKey {
    let processId: number;
    do processId = randomInt(1, 0x7fffffff);
    while (this.byClientPid.has(processId));
    const clientKey = { processId, secretKey: randomBytes(4) };
    entry.clientKey = clientKey;
    entry.backendKey = backendKey;
    this.byClientPid.set(processId, entry);
    return clientKey;
  }

  /** The backend key a CancelRequest's key stands for, compared in constant time. */
  resolveCancel(processId: number, secretKey: Buffer): BackendKey | undefined {
    const entry = this.byClientPid.get(processId);
    const expected = entry?.clientKey?.secretKey;
    if (entry === undefined || expected === undefined || expected.length !== secretKey.length)
      return undefined;
    return timingSafeEqual(expected, secretKey) ? entry.backendKey : undefined;
  }

  close(entry: SessionEntry): void {
    this.sessions.delete(entry.id);
    if (entry.clientKey !== undefined) this.byClientPid.delete(entry.clientKey.processId);
  }

  private count(predicate: (entry: SessionEntry) => boolean): number {
    let n = 0;
    for (const entry of this.sessions.values()) if (predicate(entry)) n++;
    return n;
  }
}
