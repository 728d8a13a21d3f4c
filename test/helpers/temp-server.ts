import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { connectControl } from '../../src/control/control-client.js';
import { type DataDirLayout, dataDirLayout } from '../../src/server/data-dir-layout.js';
import { isAlive, readPostmasterPid } from '../../src/server/postgres-process.js';
import { readSupervisor } from '../../src/server/supervisor.js';
import { type CliOptions, type CliResult, runPgwarden } from './pgwarden-cli.js';

/**
 * A data directory in /tmp (short, so the socket path fits) for one test,
 * torn down afterwards whatever happened: `pgwarden down`, then SIGKILL for
 * anything of ours still alive, then the directory is removed.
 */
export class TempServer {
  readonly dataDir: string;
  readonly layout: DataDirLayout;
  readonly pgBin: string;

  private constructor(dataDir: string, pgBin: string) {
    this.dataDir = dataDir;
    this.layout = dataDirLayout(dataDir);
    this.pgBin = pgBin;
  }

  /**
   * `registerCleanup` is node:test's `after` (in a describe body) or
   * `t.after` (in a test): the server is destroyed when that scope ends.
   */
  static create(pgBin: string, registerCleanup: (fn: () => Promise<void>) => void): TempServer {
    const parent = mkdtempSync('/tmp/pgw-');
    chmodSync(parent, 0o711); // the PostgreSQL OS user must be able to pass through (root runs)
    const server = new TempServer(join(parent, 'd'), pgBin);
    registerCleanup(() => server.destroy());
    return server;
  }

  /** Runs a pgwarden command against this data directory and these binaries. */
  cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
    // Port 0: the gateway takes any free port, so tests run in parallel.
    return runPgwarden(
      [...args, '--data-dir', this.dataDir, '--pg-bin', this.pgBin, '--port', '0'],
      options,
    );
  }

  /** The gateway's TCP port (from the supervisor record). */
  gatewayPort(): number {
    const port = readSupervisor(this.layout)?.gateway?.listening[0]?.port;
    if (port === undefined) throw new Error('the gateway is not listening');
    return port;
  }

  /** pgwarden's CA certificate, for sslmode=verify-full. */
  get caFile(): string {
    return join(this.layout.tlsDir, 'ca.crt');
  }

  /** A libpq connection string through the gateway with verify-full TLS. */
  conninfo(user: string, database = 'postgres', extra = ''): string {
    return `host=localhost port=${this.gatewayPort()} user=${user} dbname=${database} sslmode=verify-full sslrootcert=${this.caFile} ${extra}`.trim();
  }

  /** node-postgres options through the gateway with verify-full TLS. */
  gatewayClientConfig(user: string, password: string, database = 'postgres'): pg.ClientConfig {
    return {
      host: 'localhost',
      port: this.gatewayPort(),
      user,
      password,
      database,
      ssl: {
        ca: readFileSync(this.caFile, 'utf8'),
        servername: 'localhost',
        minVersion: 'TLSv1.3',
      },
    };
  }

  /** `pgwarden up --detach`, asserting success. */
  async up(options: CliOptions = {}): Promise<CliResult> {
    const result = await this.cli(['up', '--detach'], options);
    if (result.code !== 0)
      throw new Error(`pgwarden up failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  adminPassword(): string {
    return readFileSync(this.layout.adminPassword, 'utf8').trim();
  }

  /** A connection as the internal superuser over the private socket (the control plane's way in). */
  async superuser(database = 'postgres'): Promise<pg.Client> {
    const client = await connectControl(this.layout.socketDir, database);
    client.on('error', () => undefined); // a server stopped under a test must not crash the runner
    // The control plane pins search_path to pg_catalog; tests name their tables as people do.
    await client.query('SET search_path = "$user", public');
    return client;
  }

  /** A connection as `user` with a password over the socket (SCRAM-SHA-256). */
  async connectAs(user: string, password: string, database = 'postgres'): Promise<pg.Client> {
    const client = new pg.Client({
      host: this.layout.socketDir,
      port: 5432,
      user,
      password,
      database,
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  supervisorPid(): number | undefined {
    return readSupervisor(this.layout)?.pid;
  }

  postmasterPid(): number | undefined {
    return readPostmasterPid(this.layout)?.pid;
  }

  async destroy(): Promise<void> {
    await this.cli(['down']).catch(() => undefined);
    for (const pid of [this.supervisorPid(), this.postmasterPid()]) {
      if (pid === undefined || !isAlive(pid)) continue;
      try {
        process.kill(-pid, 'SIGKILL'); // postmaster and supervisor lead their own process groups
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    // PGWARDEN_TEST_KEEP=1 keeps the (stopped) data directory for a look at its logs.
    if (process.env.PGWARDEN_TEST_KEEP !== '1')
      rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
  }
}
