import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import pg from 'pg';
import { ensureCertificates } from '../../src/gateway/tls/certificate-store.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/** Issue 3, items 4 and 8: TLS negotiation paths, certificates, status, graceful shutdown. */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const GSSENC_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);

function startupMessage(user: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 3, 0, 0]),
    Buffer.from(`user\0${user}\0database\0postgres\0\0`),
  ]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([length, body]);
}

/** Reads until `enough` says the bytes so far are enough, or the peer closes. */
function readFrom(
  socket: net.Socket | tls.TLSSocket,
  enough: (data: Buffer) => boolean,
): Promise<Buffer> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const done = (): void => {
      socket.off('data', onData);
      resolve(data);
    };
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      if (enough(data)) done();
    };
    socket.on('data', onData);
    socket.once('close', done);
    socket.once('error', done);
  });
}

function errorFields(data: Buffer): Record<string, string> {
  assert.equal(
    String.fromCharCode(data[0] ?? 0),
    'E',
    `an ErrorResponse, got ${data.subarray(0, 16).toString('hex')}`,
  );
  const fields: Record<string, string> = {};
  let offset = 5;
  while (offset < data.length && data[offset] !== 0) {
    const end = data.indexOf(0, offset + 1);
    fields[String.fromCharCode(data[offset] as number)] = data
      .subarray(offset + 1, end)
      .toString('utf8');
    offset = end + 1;
  }
  return fields;
}

describe(`gateway TLS negotiation and certificates (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  before(() => server.up());

  it('speaks TLS directly when the client starts with a ClientHello offering ALPN "postgresql"', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.gatewayPort(),
      servername: 'localhost',
      ca: readFileSync(server.caFile),
      ALPNProtocols: ['postgresql'],
    });
    await new Promise<void>((resolve, reject) =>
      socket.once('secureConnect', resolve).once('error', reject),
    );
    assert.equal(socket.alpnProtocol, 'postgresql');
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    socket.write(startupMessage('pgwarden'));
    const reply = await readFrom(socket, (d) => d.length >= 9);
    socket.destroy();
    assert.equal(String.fromCharCode(reply[0] ?? 0), 'R', 'an authentication request');
    assert.equal(reply.readInt32BE(5), 10, 'AuthenticationSASL');
    assert.match(reply.toString('latin1'), /SCRAM-SHA-256-PLUS/);
  });

  it('refuses direct TLS without ALPN with 08P01', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.gatewayPort(),
      servername: 'localhost',
      ca: readFileSync(server.caFile),
    });
    socket.on('error', () => undefined);
    const reply = await readFrom(socket, (d) => d.length > 5 && d.includes(0, 6));
    const fields = errorFields(reply);
    assert.equal(fields.C, '08P01');
    assert.match(fields.M ?? '', /ALPN/);
  });

  it('answers GSSENCRequest with N and then accepts an SSLRequest on the same connection', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.gatewayPort() });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(GSSENC_REQUEST);
    assert.equal((await readFrom(socket, (d) => d.length >= 1)).toString(), 'N');
    socket.write(SSL_REQUEST);
    assert.equal((await readFrom(socket, (d) => d.length >= 1)).toString(), 'S');
    socket.destroy();
  });

  it('refuses plaintext sent after an SSLRequest (CVE-2021-23214)', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.gatewayPort() });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(Buffer.concat([SSL_REQUEST, startupMessage('pgwarden')]));
    const reply = await readFrom(socket, (d) => d.length > 5 && d.includes(0, 6));
    socket.destroy();
    assert.equal(errorFields(reply).C, '08P01');
  });

  it('exports the CA that signed the gateway certificate', async () => {
    const exported = await server.cli(['ca', 'export']);
    assert.equal(exported.code, 0);
    const ca = new X509Certificate(exported.stdout);
    assert.equal(ca.ca, true);
    const out = join(server.dataDir, '..', 'exported-ca.crt');
    const toFile = await server.cli(['ca', 'export', '--out', out]);
    assert.equal(toFile.code, 0);
    assert.equal(readFileSync(out, 'utf8').trim(), exported.stdout.trim());
    const leaf = new X509Certificate(readFileSync(join(server.layout.tlsDir, 'server.crt')));
    assert.ok(leaf.verify(ca.publicKey));
    assert.ok(leaf.checkHost('localhost'));
  });

  it('reports listeners, TLS settings, certificate expiry, sessions and rules in status', async () => {
    const status = await server.cli(['status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as {
      gateway: {
        listening: { address: string; port: number }[];
        tls: {
          requireSecureTransport: boolean;
          minProtocolVersion: string;
          certificate: { daysLeft: number };
        };
        activeSessions: number;
        firewallRules: number;
        warnings: string[];
      };
    };
    assert.deepEqual(
      parsed.gateway.listening.map((l) => l.address).sort(),
      ['127.0.0.1', '::1'].sort(),
    );
    assert.equal(parsed.gateway.listening[0]?.port, server.gatewayPort());
    assert.equal(parsed.gateway.tls.requireSecureTransport, true);
    assert.equal(parsed.gateway.tls.minProtocolVersion, 'TLSv1.3');
    assert.ok(parsed.gateway.tls.certificate.daysLeft > 300);
    assert.equal(parsed.gateway.firewallRules, 2);
    assert.deepEqual(parsed.gateway.warnings, []);
    const client = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    await client.connect();
    try {
      const withSession = JSON.parse(
        (await server.cli(['status', '--json'])).stdout,
      ) as typeof parsed;
      assert.equal(withSession.gateway.activeSessions, 1);
    } finally {
      await client.end();
    }
  });
  it('declines a newer protocol minor with NegotiateProtocolVersion and carries on with 3.0', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.gatewayPort() });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(SSL_REQUEST);
    await readFrom(socket, (d) => d.length >= 1);
    const secure = tls.connect({
      socket,
      servername: 'localhost',
      ca: readFileSync(server.caFile),
    });
    await new Promise<void>((resolve, reject) =>
      secure.once('secureConnect', resolve).once('error', reject),
    );
    const body = Buffer.concat([
      Buffer.from([0, 3, 0, 2]),
      Buffer.from('user\0pgwarden\0database\0postgres\0_pq_.future_option\0x\0\0'),
    ]);
    const length = Buffer.alloc(4);
    length.writeInt32BE(body.length + 4);
    secure.write(Buffer.concat([length, body]));
    const reply = await readFrom(secure, (d) => d.length > 0 && d.includes(0x52));
    secure.destroy();
    assert.equal(String.fromCharCode(reply[0] ?? 0), 'v', 'NegotiateProtocolVersion first');
    assert.equal(reply.readInt32BE(5), 3 << 16, 'newest version: 3.0');
    assert.equal(reply.readInt32BE(9), 1, 'one option not recognised');
    assert.match(reply.toString('latin1'), /_pq_\.future_option/);
    const auth = reply.indexOf(0x52, 1 + reply.readInt32BE(1));
    assert.equal(reply.readInt32BE(auth + 5), 10, 'then AuthenticationSASL as usual');
  });

  it('applies a reloaded pgwarden.yaml on SIGHUP, without a restart', async () => {
    const first = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
    await first.connect();
    try {
      writeFileSync(server.layout.configFile, 'gateway:\n  maxConnectionsPerRole: 1\n');
      const supervisor = server.supervisorPid();
      assert.ok(supervisor !== undefined);
      process.kill(supervisor, 'SIGHUP');
      const log = join(server.layout.logDir, 'supervisor.log');
      const deadline = Date.now() + 5000;
      while (
        !readFileSync(log, 'utf8').includes('configuration reloaded') &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const second = new pg.Client(server.gatewayClientConfig('pgwarden', server.adminPassword()));
      second.on('error', () => undefined);
      await assert.rejects(second.connect(), { code: '53300' });
      assert.equal(server.supervisorPid(), supervisor, 'same supervisor: no restart');
    } finally {
      await first.end();
      writeFileSync(server.layout.configFile, '');
    }
  });
});

describe(`gateway with its own certificate, reloaded on change (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  let certDir: string;
  before(async () => {
    certDir = join(server.dataDir, '..', 'byo');
    const first = await ensureCertificates(join(certDir, 'first'), { names: [] });
    mkdirSync(server.dataDir, { recursive: true });
    copyFileSync(first.cert, join(certDir, 'server.crt'));
    copyFileSync(first.key, join(certDir, 'server.key'));
    writeFileSync(
      server.layout.configFile,
      `gateway:\n  shutdownTimeoutSeconds: 1\n  tls:\n    certFile: ${join(certDir, 'server.crt')}\n    keyFile: ${join(certDir, 'server.key')}\n`,
    );
    await server.up();
  });

  const fingerprint = async (): Promise<string> => {
    const socket = net.connect({ host: '127.0.0.1', port: server.gatewayPort() });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(SSL_REQUEST);
    await readFrom(socket, (d) => d.length >= 1);
    const secure = tls.connect({ socket, servername: 'localhost', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) =>
      secure.once('secureConnect', resolve).once('error', reject),
    );
    const value = secure.getPeerX509Certificate()?.fingerprint256 ?? '';
    secure.destroy();
    return value;
  };

  it('serves the configured certificate and picks up a replacement without a restart', async () => {
    const before_ = await fingerprint();
    assert.equal(
      before_,
      new X509Certificate(readFileSync(join(certDir, 'server.crt'))).fingerprint256,
    );
    const second = await ensureCertificates(join(certDir, 'second'), { names: [] });
    // Key first, then certificate, each by rename, as a certificate manager would.
    copyFileSync(second.key, join(certDir, 'server.key.new'));
    copyFileSync(second.cert, join(certDir, 'server.crt.new'));
    const { renameSync } = await import('node:fs');
    renameSync(join(certDir, 'server.key.new'), join(certDir, 'server.key'));
    renameSync(join(certDir, 'server.crt.new'), join(certDir, 'server.crt'));
    const wanted = new X509Certificate(readFileSync(second.cert)).fingerprint256;
    const deadline = Date.now() + 10_000;
    let seen = before_;
    while (seen !== wanted && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      seen = await fingerprint();
    }
    assert.equal(seen, wanted);
  });

  it('on down, lets sessions finish for shutdownTimeoutSeconds, then ends them with 57P01', async () => {
    const client = new pg.Client({
      host: 'localhost',
      port: server.gatewayPort(),
      user: 'pgwarden',
      password: server.adminPassword(),
      database: 'postgres',
      ssl: { rejectUnauthorized: false },
    });
    const errors: { code?: string }[] = [];
    client.on('error', (error) => errors.push(error as { code?: string }));
    await client.connect();
    await client.query('BEGIN');
    const down = await server.cli(['down']);
    assert.equal(down.code, 0, down.stderr);
    const deadline = Date.now() + 5000;
    while (errors.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(errors[0]?.code, '57P01');
    await client.end().catch(() => undefined);
  });
});
