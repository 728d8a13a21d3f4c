import assert from 'node:assert/strict';
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { buildCertificate } from '../../../src/gateway/tls/certificate-builder.js';
import {
  certificateInfo,
  ensureCertificates,
  loadCertificateFiles,
  type TlsFiles,
  watchCertificateFiles,
} from '../../../src/gateway/tls/certificate-store.js';
import { readChildren, readTlv } from '../../../src/gateway/tls/der.js';
import { tlsServerEndPoint } from '../../../src/gateway/tls/tls-server-end-point.js';
import { OID, parseCertificate } from '../../../src/gateway/tls/x509-reader.js';

const DAY_MS = 86_400_000;
const FILES = ['ca.crt', 'ca.key', 'server.crt', 'server.key'] as const;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pgwarden-tls-'));
}

function p256(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

function snapshot(dir: string): Record<string, { content: string; mtimeMs: number }> {
  return Object.fromEntries(
    FILES.map((file) => [
      file,
      {
        content: readFileSync(join(dir, file), 'utf8'),
        mtimeMs: statSync(join(dir, file)).mtimeMs,
      },
    ]),
  );
}

/** The keyIdentifier inside a SKI (OCTET STRING) or AKI (SEQUENCE { [0] ... }) extension. */
function extensionKeyId(pem: string, id: string): string {
  const extension = parseCertificate(new X509Certificate(pem).raw).extensions.get(id);
  assert.ok(extension, `extension ${id} present`);
  const element = readTlv(extension.value);
  if (element.tag === 0x04) return element.contents.toString('hex');
  const [keyId] = readChildren(element.contents);
  assert.equal(keyId?.tag, 0x80);
  return keyId.contents.toString('hex');
}

describe('ensureCertificates', () => {
  let root: string;
  let dir: string;
  let files: TlsFiles;
  let ca: X509Certificate;
  let server: X509Certificate;

  before(async () => {
    root = tempDir();
    dir = join(root, 'tls');
    files = await ensureCertificates(dir, {
      names: ['db.example.com', '192.0.2.7', '2001:db8::7'],
    });
    ca = new X509Certificate(readFileSync(files.caCert));
    server = new X509Certificate(readFileSync(files.cert));
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('returns the paths in the directory', () => {
    assert.deepEqual(files, {
      caCert: join(dir, 'ca.crt'),
      cert: join(dir, 'server.crt'),
      key: join(dir, 'server.key'),
    });
  });

  it('creates a 0700 directory, 0600 keys and 0644 certificates', () => {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'server.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'ca.crt')).mode & 0o777, 0o644);
    assert.equal(statSync(join(dir, 'server.crt')).mode & 0o777, 0o644);
    assert.match(readFileSync(join(dir, 'ca.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(readFileSync(files.key));
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('makes a self-signed CA and a server certificate it signed', () => {
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.match(ca.subject, /^O=pgwarden\nCN=pgwarden CA [0-9a-f]+$/);
    assert.equal(ca.issuer, ca.subject);
    assert.equal(server.issuer, ca.subject);
    assert.equal(ca.verify(ca.publicKey), true);
    assert.equal(server.verify(ca.publicKey), true);
    assert.equal(server.checkIssued(ca), true);
    assert.equal(server.verify(server.publicKey), false);
  });

  it('rejects verification with another CA', () => {
    const otherKey = p256();
    const now = Date.now();
    const otherCa = buildCertificate({
      commonName: 'other CA',
      subjectKey: otherKey,
      signingKey: otherKey,
      notBefore: new Date(now),
      notAfter: new Date(now + DAY_MS),
      ca: true,
    });
    const foreign = new X509Certificate(
      buildCertificate({
        commonName: 'foreign',
        issuerCertificate: otherCa,
        subjectKey: p256(),
        signingKey: otherKey,
        notBefore: new Date(now),
        notAfter: new Date(now + DAY_MS),
        ca: false,
        dnsNames: ['localhost'],
      }),
    );
    assert.equal(foreign.verify(new X509Certificate(otherCa).publicKey), true);
    assert.equal(foreign.verify(ca.publicKey), false);
    assert.equal(server.verify(new X509Certificate(otherCa).publicKey), false);
  });

  it('names localhost, the loopback addresses, the host name and the configured names', () => {
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkHost(hostname()), hostname());
    assert.equal(server.checkHost('db.example.com'), 'db.example.com');
    assert.equal(server.checkHost('other.example.com'), undefined);
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.checkIP('192.0.2.7'), '192.0.2.7');
    assert.equal(server.checkIP('2001:db8::7'), '2001:db8::7');
    assert.equal(server.checkIP('192.0.2.8'), undefined);
    const info = certificateInfo(readFileSync(files.cert, 'utf8'));
    assert.deepEqual(info.ipAddresses, ['127.0.0.1', '::1', '192.0.2.7', '2001:db8::7']);
    assert.ok(info.dnsNames.includes('localhost') && info.dnsNames.includes('db.example.com'));
  });

  it('sets validity: the CA ten years, the server 397 days', () => {
    const caInfo = certificateInfo(readFileSync(files.caCert, 'utf8'));
    const serverInfo = certificateInfo(readFileSync(files.cert, 'utf8'));
    assert.ok(caInfo.daysLeft >= 3650 && caInfo.daysLeft <= 3652, String(caInfo.daysLeft));
    assert.ok(
      serverInfo.daysLeft >= 396 && serverInfo.daysLeft <= 397,
      String(serverInfo.daysLeft),
    );
    assert.equal(serverInfo.notAfter.toUTCString(), new Date(server.validTo).toUTCString());
    assert.equal(serverInfo.fingerprint256, server.fingerprint256);
    assert.match(serverInfo.subject, /^O=pgwarden, CN=/);
    assert.equal(serverInfo.issuer, caInfo.subject);
  });

  it('links key identifiers (RFC 5280 4.2.1.1, 4.2.1.2 method 1)', () => {
    const caPem = readFileSync(files.caCert, 'utf8');
    const spki = ca.publicKey.export({ type: 'spki', format: 'der' });
    // P-256 SPKI: the last 65 octets are the uncompressed point, the BIT STRING value.
    const expected = createHash('sha1')
      .update(spki.subarray(spki.length - 65))
      .digest('hex');
    assert.equal(extensionKeyId(caPem, OID.subjectKeyIdentifier), expected);
    assert.equal(extensionKeyId(caPem, OID.authorityKeyIdentifier), expected);
    assert.equal(
      extensionKeyId(readFileSync(files.cert, 'utf8'), OID.authorityKeyIdentifier),
      expected,
    );
  });

  it('marks basicConstraints and keyUsage critical', () => {
    for (const certificate of [ca, server]) {
      const { extensions } = parseCertificate(certificate.raw);
      assert.equal(extensions.get(OID.basicConstraints)?.critical, true);
      assert.equal(extensions.get(OID.keyUsage)?.critical, true);
    }
    const caExtensions = parseCertificate(ca.raw).extensions;
    assert.equal(caExtensions.get(OID.basicConstraints)?.value.toString('hex'), '30060101ff020100');
    assert.equal(caExtensions.get(OID.keyUsage)?.value.toString('hex'), '03020106');
    const serverExtensions = parseCertificate(server.raw).extensions;
    assert.equal(serverExtensions.get(OID.basicConstraints)?.value.toString('hex'), '3000');
    assert.equal(serverExtensions.get(OID.keyUsage)?.value.toString('hex'), '03020780');
    assert.equal(
      serverExtensions.get(OID.extKeyUsage)?.value.toString('hex'),
      '300a06082b06010505070301',
    );
    assert.equal(caExtensions.has(OID.extKeyUsage), false);
  });

  it('changes nothing on a second call', async () => {
    const before = snapshot(dir);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await ensureCertificates(dir, { names: ['db.example.com', '192.0.2.7', '2001:db8::7'] });
    await ensureCertificates(dir, { names: ['DB.example.com.', '2001:DB8:0::7'] });
    const { uid, gid } = statSync(dir);
    await ensureCertificates(dir, { names: [], owner: { uid, gid } });
    assert.deepEqual(snapshot(dir), before);
  });

  it('re-issues only the server certificate, with the same CA, for a new name', async () => {
    const before = snapshot(dir);
    await ensureCertificates(dir, { names: ['db.example.com', 'extra.example'] });
    const after = snapshot(dir);
    assert.deepEqual(after['ca.crt'], before['ca.crt']);
    assert.deepEqual(after['ca.key'], before['ca.key']);
    assert.notEqual(after['server.crt']?.content, before['server.crt']?.content);
    assert.notEqual(after['server.key']?.content, before['server.key']?.content);
    const reissued = new X509Certificate(readFileSync(files.cert));
    assert.equal(reissued.verify(ca.publicKey), true);
    assert.equal(reissued.checkHost('extra.example'), 'extra.example');
    assert.equal(reissued.checkPrivateKey(createPrivateKey(readFileSync(files.key))), true);
    assert.equal(statSync(files.key).mode & 0o777, 0o600);
  });

  it('re-issues a server certificate that expires within 30 days', async () => {
    const caKey = createPrivateKey(readFileSync(join(dir, 'ca.key')));
    const key = p256();
    const now = Date.now();
    writeFileSync(
      files.cert,
      buildCertificate({
        commonName: 'short-lived',
        issuerCertificate: readFileSync(files.caCert, 'utf8'),
        subjectKey: key,
        signingKey: caKey,
        notBefore: new Date(now - DAY_MS),
        notAfter: new Date(now + 10 * DAY_MS),
        ca: false,
        dnsNames: ['localhost', 'extra.example', 'db.example.com', hostname()],
        ipAddresses: ['127.0.0.1', '::1'],
      }),
    );
    writeFileSync(files.key, key.export({ type: 'pkcs8', format: 'pem' }));
    const caBefore = readFileSync(files.caCert, 'utf8');
    await ensureCertificates(dir, { names: ['db.example.com', 'extra.example'] });
    assert.ok(certificateInfo(readFileSync(files.cert, 'utf8')).daysLeft > 300);
    assert.equal(readFileSync(files.caCert, 'utf8'), caBefore);
  });

  it('refuses names that are neither IP addresses nor DNS names', async () => {
    await assert.rejects(ensureCertificates(dir, { names: ['bad name'] }), /bad name/);
    await assert.rejects(ensureCertificates(dir, { names: ['fe80::1%eth0'] }), /fe80/);
  });
});

describe('TLS with the generated certificates', () => {
  let root: string;
  let files: TlsFiles;
  let port: number;
  let tlsServer: ReturnType<typeof createServer>;

  before(async () => {
    root = tempDir();
    files = await ensureCertificates(join(root, 'tls'), { names: [] });
    tlsServer = createServer(
      { key: readFileSync(files.key), cert: readFileSync(files.cert), minVersion: 'TLSv1.3' },
      (socket) => {
        socket.on('error', () => undefined);
        socket.end('hello');
      },
    );
    tlsServer.on('tlsClientError', () => undefined);
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    port = (tlsServer.address() as AddressInfo).port;
  });

  after(async () => {
    tlsServer.close();
    rmSync(root, { recursive: true, force: true });
  });

  function handshake(servername: string): Promise<{ data: string; socket: TLSSocket }> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ca: readFileSync(files.caCert),
        servername,
        minVersion: 'TLSv1.3',
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      socket.on('end', () => resolve({ data, socket }));
      socket.on('error', reject);
    });
  }

  it('completes a verified TLS 1.3 handshake for localhost', async () => {
    const { data, socket } = await handshake('localhost');
    assert.equal(data, 'hello');
    assert.equal(socket.authorized, true);
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    const peer = socket.getPeerX509Certificate();
    assert.ok(peer);
    // RFC 5929 4.1: what a SCRAM-SHA-256-PLUS client computes from the peer certificate.
    assert.deepEqual(tlsServerEndPoint(peer.raw), createHash('sha256').update(peer.raw).digest());
  });

  it('fails verification for a name the certificate does not hold', async () => {
    await assert.rejects(handshake('wrong.example'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});

describe('loadCertificateFiles', () => {
  let root: string;
  let files: TlsFiles;

  before(async () => {
    root = tempDir();
    files = await ensureCertificates(join(root, 'tls'), { names: [] });
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  it('loads a matching certificate and key', () => {
    const loaded = loadCertificateFiles({ cert: files.cert, key: files.key, ca: files.caCert });
    assert.deepEqual(loaded.cert, readFileSync(files.cert));
    assert.deepEqual(loaded.key, readFileSync(files.key));
    assert.deepEqual(loaded.ca, readFileSync(files.caCert));
    assert.equal(loadCertificateFiles({ cert: files.cert, key: files.key }).ca, undefined);
  });

  it('refuses a key that does not belong to the certificate, naming the files', () => {
    const otherKey = join(root, 'other.key');
    writeFileSync(otherKey, p256().export({ type: 'pkcs8', format: 'pem' }));
    assert.throws(
      () => loadCertificateFiles({ cert: files.cert, key: otherKey }),
      (error: Error) => error.message.includes(otherKey) && error.message.includes(files.cert),
    );
  });

  it('names a missing or unreadable file', () => {
    const missing = join(root, 'missing.crt');
    assert.throws(
      () => loadCertificateFiles({ cert: missing, key: files.key }),
      (error: Error) => error.message.includes(missing),
    );
    assert.throws(
      () => loadCertificateFiles({ cert: files.key, key: files.key }),
      (error: Error) => error.message.includes(files.key),
    );
  });
});

describe('watchCertificateFiles', () => {
  it('calls back once after a file is replaced, and not after stop', {
    timeout: 15_000,
  }, async (t) => {
    const root = tempDir();
    // The watcher keeps no event-loop reference of its own; this one keeps the test alive,
    // and is cleared even if the test fails or times out (a finally block would not run then).
    const keepAlive = setInterval(() => undefined, 1000);
    t.after(() => clearInterval(keepAlive));
    try {
      const path = join(root, 'server.crt');
      writeFileSync(path, 'one');
      let calls = 0;
      let changed: () => void = () => undefined;
      const firstChange = new Promise<void>((resolve) => {
        changed = resolve;
      });
      const stop = watchCertificateFiles(
        [path],
        () => {
          calls++;
          changed();
        },
        { debounceMs: 100 },
      );
      // Atomic replacement, as ensureCertificates does it.
      writeFileSync(`${path}.tmp`, 'two, longer');
      renameSync(`${path}.tmp`, path);
      await firstChange;
      assert.equal(calls, 1);
      stop();
      writeFileSync(path, 'three, longer still');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(calls, 1);
    } finally {
      clearInterval(keepAlive);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
