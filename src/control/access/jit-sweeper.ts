import pg from 'pg';
import { messageOf } from '../../errors.js';
import { SOCKET_PORT } from '../../server/data-dir-layout.js';
import { INTERNAL_SUPERUSER, STATE_DATABASE } from '../control-client.js';
import { expireDueGrants } from './expire-grants.js';
import { drainJitEvents, type JitSecurityEvent } from './jit-events.js';

/** How often grants are checked for expiry, and the outbox for new steps. */
export const SWEEP_INTERVAL_MS = 2000;

/**
 * Runs in the gateway process: revokes just-in-time grants once they expire
 * and turns the steps the CLI wrote to the outbox into security events. It
 * sweeps once when it starts, before the gateway listens, so grants that
 * expired while pgwarden was down are gone before anyone can use them, and
 * then every SWEEP_INTERVAL_MS. Expiry is read from the state database, never
 * from a timer, so a restart changes nothing.
 */
export class JitSweeper {
  private readonly pool: pg.Pool;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The last failure reported: a state database that is down is reported once, not every pass. */
  private lastFailure: string | undefined;

  private constructor(
    socketDir: string,
    private readonly record: (event: JitSecurityEvent) => void,
    private readonly onWarning: (message: string) => void,
  ) {
    // One connection of its own: expiry needs transactions, which a shared pool's query() cannot hold.
    this.pool = new pg.Pool({
      host: socketDir,
      port: SOCKET_PORT,
      user: INTERNAL_SUPERUSER,
      database: STATE_DATABASE,
      application_name: 'pgwarden-jit-sweeper',
      max: 1,
    });
    this.pool.on('error', () => undefined); // a dropped idle connection is replaced on next use
  }

  static async start(
    socketDir: string,
    record: (event: JitSecurityEvent) => void,
    onWarning: (message: string) => void,
    intervalMs = SWEEP_INTERVAL_MS,
  ): Promise<JitSweeper> {
    const sweeper = new JitSweeper(socketDir, record, onWarning);
    await sweeper.sweep();
    sweeper.timer = setInterval(() => void sweeper.sweep(), intervalMs);
    sweeper.timer.unref();
    return sweeper;
  }

  /** One pass; a pass still running is joined, not doubled. Never throws. */
  sweep(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer, lets a running pass finish, and hands on the steps written meanwhile. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
    await this.withClient((client) => drainJitEvents(client, this.record));
    await this.pool.end().catch(() => undefined);
  }

  private async pass(): Promise<void> {
    await this.withClient(async (client) => {
      await expireDueGrants(client, (id, error) =>
        this.onWarning(`access request ${id}: could not expire the grant: ${messageOf(error)}`),
      );
      while ((await drainJitEvents(client, this.record)) > 0) {
        // drain in batches until the outbox is empty
      }
    });
  }

  private async withClient(fn: (client: pg.PoolClient) => Promise<unknown>): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      await fn(client);
      client.release();
      this.lastFailure = undefined;
    } catch (error) {
      client?.release(true); // a failed connection is not reused
      const message = `just-in-time access sweep failed: ${messageOf(error)}`;
      if (message !== this.lastFailure) this.onWarning(message);
      this.lastFailure = message;
    }
  }
}
