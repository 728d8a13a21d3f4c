import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ensureCertificates } from '../../src/gateway/tls/certificate-store.js';
import { ensureOsUser } from '../../src/server/os-user.js';
import { resolveBinaries } from '../../src/server/pg-binaries.js';
import { runCommand } from '../../src/util/run-command.js';

/**
 * A PostgreSQL that pgwarden did not create: its own initdb, TCP on
 * 127.0.0.1 with TLS (certificate from a separate test CA), and pg_hba.conf
 * requiring SCRAM-SHA-256 over TLS.
 */
export class ExternalPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly caFile: string,
    readonly superuser: string,
    readonly superuserPassword: string,
    private readonly pgCtl: string,
    private readonly runAs: Awaited<ReturnType<typeof ensureOsUser>>,
  ) {}

  static async start(
    pgBin: string,
    registerCleanup: (fn: () => Promise<void>) => void,
  ): Promise<ExternalPostgres> {
    const { chosen } = await resolveBinaries(pgBin);
    const runAs = await ensureOsUser('pgwarden');
    const dir = mkdtempSync('/tmp/pgw-ext-');
    chmodSync(dir, 0o711);
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    const owner = (path: string): void => {
      if (runAs !== undefined) chownSync(path, runAs.uid, runAs.gid);
    };
    owner(data);
    const superuser = 'ext_admin';
    const password = `ext-${Math.random().toString(36).slice(2)}-password`;
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    owner(pwfile);
    const port = await freePort();
    const pgCtl = join(chosen.binDir, 'pg_ctl');
    const ext = new ExternalPostgres(
      dir,
      port,
      join(dir, 'tls', 'ca.crt'),
      superuser,
      password,
      pgCtl,
      runAs,
    );
    registerCleanup(() => ext.stop());
    const init = await runCommand(
      join(chosen.binDir, 'initdb'),
      [
        '-D',
        data,
        '-U',
        superuser,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ],
      { runAs },
    );
    if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const tls = await ensureCertificates(join(dir, 'tls'), { names: [] });
    for (const file of ['server.crt', 'server.key'] as const) {
      copyFileSync(tls[file === 'server.crt' ? 'cert' : 'key'], join(data, file));
      chmodSync(join(data, file), 0o600);
      owner(join(data, file));
    }
    writeFileSync(
      join(data, 'postgresql.auto.conf'),
      `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${data}'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n`,
    );
    writeFileSync(
      join(data, 'pg_hba.conf'),
      'hostssl all all 127.0.0.1/32 scram-sha-256\nlocal all all scram-sha-256\n',
    );
    owner(join(data, 'postgresql.auto.conf'));
    owner(join(data, 'pg_hba.conf'));
    const start = await runCommand(
      pgCtl,
      ['-D', data, '-l', join(data, 'server.log'), '-w', 'start'],
      { runAs, timeoutMs: 60_000 },
    );
    if (start.code !== 0) throw new Error(`pg_ctl start failed: ${start.stdout}${start.stderr}`);
    return ext;
  }

  async stop(): Promise<void> {
    await runCommand(this.pgCtl, ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop'], {
      runAs: this.runAs,
      timeoutMs: 60_000,
    });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
