import {
  createPrivateKey,
  generateKeyPair,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildCertificate, isCertificateDnsName } from './certificate-builder.js';
import { formatIpAddress, ipAddressBytes } from './ip-address.js';
import { parseCertificate, subjectAltNames } from './x509-reader.js';

/** Paths of the files a TLS server needs, all inside the certificate directory. */
export interface TlsFiles {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

export interface EnsureCertificatesOptions {
  /** Extra names for the server certificate: IP addresses become iPAddress, others dNSName. */
  readonly names: readonly string[];
  /** Owner given to the directory and every file written (e.g. the OS user PostgreSQL runs as). */
  readonly owner?: { readonly uid: number; readonly gid: number };
}

export interface CertificateInfo {
  /** The subject DN, e.g. "O=pgwarden, CN=pgwarden CA 1a2b3c4d". */
  readonly subject: string;
  readonly issuer: string;
  readonly notAfter: Date;
  /** Whole days until notAfter (negative once expired). */
  readonly daysLeft: number;
  readonly dnsNames: string[];
  /** IPv4 dotted, IPv6 in RFC 5952 form ("::1"). */
  readonly ipAddresses: string[];
  /** SHA-256 fingerprint as node prints it ("AB:CD:..."). */
  readonly fingerprint256: string;
}

const DAY_MS = 86_400_000;
/** The CA lives ten years. */
const CA_VALIDITY_DAYS = 3652;
/** CA/Browser Forum Baseline Requirements 6.3.2: 397 days at most (Apple: 825 for private CAs). */
const SERVER_VALIDITY_DAYS = 397;
/** Certificates expiring sooner than this are replaced. */
const RENEW_WITHIN_DAYS = 30;
/** notBefore is backdated a little so clients with a slow clock accept a fresh certificate. */
const BACKDATE_MS = 5 * 60_000;

const FILE = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'server.crt', key: 'server.key' } as const;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

const generateKeyPairAsync = promisify(generateKeyPair);

async function newKey(): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  return privateKey;
}

function keyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

interface PendingFile {
  readonly path: string;
  readonly data: string;
  readonly mode: number;
}

/**
 * Writes each file to a temporary sibling (fsync'ed, mode and owner set), then
 * renames them into place in the order given, so a reader never sees a
 * partial file. Write a key before its certificate: a crash in between leaves
 * a mismatched pair, which the next ensureCertificates call replaces.
 */
async function writeFilesAtomically(
  dir: string,
  files: readonly PendingFile[],
  owner: EnsureCertificatesOptions['owner'],
): Promise<void> {
  const staged: { temp: string; path: string }[] = [];
  try {
    for (const file of files) {
      const temp = `${file.path}.${randomBytes(6).toString('hex')}.tmp`;
      staged.push({ temp, path: file.path });
      const handle = await open(temp, 'wx', file.mode);
      try {
        await handle.chmod(file.mode); // the umask may have narrowed the mode of open()
        if (owner) await handle.chown(owner.uid, owner.gid);
        await handle.writeFile(file.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    for (const { temp, path } of staged) await rename(temp, path);
  } catch (error) {
    await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
    throw error;
  }
  // Make the renames durable; some file systems cannot fsync a directory.
  const handle = await open(dir, 'r');
  await handle.sync().catch(() => undefined);
  await handle.close();
}

/** Enforces the owner and, for keys, mode 0600 on a file kept as it is (ctime changes, mtime not). */
async function fixUpKeptFile(
  path: string,
  mode: number,
  owner: EnsureCertificatesOptions['owner'],
): Promise<void> {
  const info = await stat(path);
  if (mode === KEY_MODE && (info.mode & 0o077) !== 0) await chmod(path, KEY_MODE);
  if (owner && (info.uid !== owner.uid || info.gid !== owner.gid)) {
    await chown(path, owner.uid, owner.gid);
  }
}

interface WantedNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** localhost, 127.0.0.1, ::1, the host name and the configured names; IPs in canonical form. */
function wantedNames(names: readonly string[]): WantedNames {
  const dnsNames = new Set<string>();
  const ipAddresses = new Set<string>();
  const add = (entry: string, strict: boolean): void => {
    const trimmed = entry.trim().replace(/^\[(.*)\]$/, '$1');
    const bytes = ipAddressBytes(trimmed);
    if (bytes) {
      ipAddresses.add(formatIpAddress(bytes));
      return;
    }
    const dnsName = trimmed.toLowerCase().replace(/\.$/, '');
    if (isCertificateDnsName(dnsName)) dnsNames.add(dnsName);
    else if (strict) {
      throw new Error(`"${entry}" is neither an IP address nor a DNS name (IDNs in A-label form)`);
    }
  };
  for (const builtIn of ['localhost', '127.0.0.1', '::1']) add(builtIn, true);
  add(hostname(), false); // an odd host name is skipped rather than fatal
  for (const entry of names) add(entry, true);
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

function coversNames(certificate: X509Certificate, wanted: WantedNames): boolean {
  const present = subjectAltNames(parseCertificate(certificate.raw));
  const dnsNames = new Set(present.dnsNames.map((dnsName) => dnsName.toLowerCase()));
  const ipAddresses = new Set(present.ipAddresses);
  return (
    wanted.dnsNames.every((dnsName) => dnsNames.has(dnsName)) &&
    wanted.ipAddresses.every((address) => ipAddresses.has(address))
  );
}

/** Valid now and for more than RENEW_WITHIN_DAYS. */
function isFresh(certificate: X509Certificate, now: Date): boolean {
  const { notBefore, notAfter } = parseCertificate(certificate.raw);
  return (
    notBefore.getTime() <= now.getTime() &&
    notAfter.getTime() - now.getTime() > RENEW_WITHIN_DAYS * DAY_MS
  );
}

interface CertificateAuthority {
  readonly certificate: X509Certificate;
  readonly pem: string;
  readonly key: KeyObject;
}

async function loadCertificateAuthority(
  dir: string,
  now: Date,
): Promise<CertificateAuthority | undefined> {
  const certPath = join(dir, FILE.caCert);
  const keyPath = join(dir, FILE.caKey);
  const [pem, keyText] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (pem === undefined && keyText === undefined) return undefined;
  // Never replace a trust anchor that clients may have copied just because half of it is missing.
  if (pem === undefined) throw new Error(`${keyPath} exists but ${certPath} is missing`);
  if (keyText === undefined) throw new Error(`${certPath} exists but ${keyPath} is missing`);
  const { certificate, key } = parsePair(pem, certPath, keyText, keyPath);
  if (!certificate.ca) throw new Error(`${certPath} is not a CA certificate`);
  // An expiring CA is replaced: nothing can go on trusting it anyway.
  if (!isFresh(certificate, now)) return undefined;
  return { certificate, pem, key };
}

async function createCertificateAuthority(
  dir: string,
  now: Date,
  owner: EnsureCertificatesOptions['owner'],
): Promise<CertificateAuthority> {
  const key = await newKey();
  const pem = buildCertificate({
    commonName: `pgwarden CA ${randomBytes(4).toString('hex')}`,
    subjectKey: key,
    signingKey: key,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    ca: true,
  });
  await writeFilesAtomically(
    dir,
    [
      { path: join(dir, FILE.caKey), data: keyPem(key), mode: KEY_MODE },
      { path: join(dir, FILE.caCert), data: pem, mode: CERT_MODE },
    ],
    owner,
  );
  return { certificate: new X509Certificate(pem), pem, key };
}

/** Whether server.crt/server.key are a matching pair issued by `ca`, fresh and naming `wanted`. */
async function serverCertificateUsable(
  dir: string,
  ca: CertificateAuthority,
  wanted: WantedNames,
  now: Date,
): Promise<boolean> {
  const [pem, keyText] = await Promise.all([
    readIfExists(join(dir, FILE.cert)),
    readIfExists(join(dir, FILE.key)),
  ]);
  if (pem === undefined || keyText === undefined) return false;
  try {
    const { certificate } = parsePair(pem, FILE.cert, keyText, FILE.key);
    return (
      certificate.checkIssued(ca.certificate) &&
      certificate.verify(ca.certificate.publicKey) &&
      isFresh(certificate, now) &&
      coversNames(certificate, wanted)
    );
  } catch {
    return false; // ours to manage: an unreadable pair is simply re-issued
  }
}

async function issueServerCertificate(
  dir: string,
  ca: CertificateAuthority,
  wanted: WantedNames,
  now: Date,
  owner: EnsureCertificatesOptions['owner'],
): Promise<void> {
  const key = await newKey();
  const caNotAfter = parseCertificate(ca.certificate.raw).notAfter.getTime();
  const pem = buildCertificate({
    commonName: 'pgwarden server',
    issuerCertificate: ca.pem,
    subjectKey: key,
    signingKey: ca.key,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    // Never outlive the CA.
    notAfter: new Date(Math.min(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS, caNotAfter)),
    ca: false,
    dnsNames: wanted.dnsNames,
    ipAddresses: wanted.ipAddresses,
  });
  await writeFilesAtomically(
    dir,
    [
      { path: join(dir, FILE.key), data: keyPem(key), mode: KEY_MODE },
      { path: join(dir, FILE.cert), data: pem, mode: CERT_MODE },
    ],
    owner,
  );
}

async function ensureDirectory(
  dir: string,
  owner: EnsureCertificatesOptions['owner'],
): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) {
    await chmod(dir, 0o700);
    if (owner) await chown(dir, owner.uid, owner.gid);
    return;
  }
  if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
}

const inProgress = new Map<string, Promise<unknown>>();

/**
 * Makes sure `dir` holds pgwarden's CA (ca.crt, ca.key) and a server
 * certificate it issued (server.crt, server.key) for localhost, 127.0.0.1,
 * ::1, the host name and `options.names`. The CA is created once and kept;
 * the server certificate is re-issued with a new key when a wanted name is
 * missing from it or it expires within 30 days. Otherwise nothing is written.
 * Calls in one process are serialised per directory; concurrent processes are not.
 */
export async function ensureCertificates(
  dir: string,
  options: EnsureCertificatesOptions,
): Promise<TlsFiles> {
  const key = resolve(dir);
  const previous = inProgress.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => ensureNow(key, options));
  inProgress.set(key, run);
  try {
    return await run;
  } finally {
    if (inProgress.get(key) === run) inProgress.delete(key);
  }
}

async function ensureNow(dir: string, options: EnsureCertificatesOptions): Promise<TlsFiles> {
  const { owner } = options;
  const wanted = wantedNames(options.names);
  const now = new Date();
  await ensureDirectory(dir, owner);

  let ca = await loadCertificateAuthority(dir, now);
  const caCreated = ca === undefined;
  ca ??= await createCertificateAuthority(dir, now, owner);
  if (!caCreated) {
    await fixUpKeptFile(join(dir, FILE.caKey), KEY_MODE, owner);
    await fixUpKeptFile(join(dir, FILE.caCert), CERT_MODE, owner);
  }

  if (!caCreated && (await serverCertificateUsable(dir, ca, wanted, now))) {
    await fixUpKeptFile(join(dir, FILE.key), KEY_MODE, owner);
    await fixUpKeptFile(join(dir, FILE.cert), CERT_MODE, owner);
  } else {
    await issueServerCertificate(dir, ca, wanted, now, owner);
  }
  return { caCert: join(dir, FILE.caCert), cert: join(dir, FILE.cert), key: join(dir, FILE.key) };
}

/** Parses a certificate and its private key, throwing an Error that names the bad file. */
function parsePair(
  certText: string | Buffer,
  certPath: string,
  keyText: string | Buffer,
  keyPath: string,
): { certificate: X509Certificate; key: KeyObject } {
  let certificate: X509Certificate;
  let key: KeyObject;
  try {
    certificate = new X509Certificate(certText);
  } catch (error) {
    throw new Error(`${certPath} does not hold a PEM or DER certificate`, { cause: error });
  }
  try {
    key = createPrivateKey(keyText);
  } catch (error) {
    throw new Error(`${keyPath} does not hold an unencrypted private key`, { cause: error });
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new Error(
      `the private key in ${keyPath} does not belong to the certificate in ${certPath}`,
    );
  }
  return { certificate, key };
}

/** What `pgwarden` shows about a certificate (the first one of a PEM bundle). */
export function certificateInfo(pem: string, now: Date = new Date()): CertificateInfo {
  const certificate = new X509Certificate(pem);
  const structure = parseCertificate(certificate.raw);
  const { dnsNames, ipAddresses } = subjectAltNames(structure);
  return {
    subject: certificate.subject.split('\n').join(', '),
    issuer: certificate.issuer.split('\n').join(', '),
    notAfter: structure.notAfter,
    daysLeft: Math.floor((structure.notAfter.getTime() - now.getTime()) / DAY_MS),
    dnsNames,
    ipAddresses,
    fingerprint256: certificate.fingerprint256,
  };
}

/**
 * Reads bring-your-own certificate files for a TLS server, checking that the
 * key belongs to the (first, leaf) certificate. Errors name the file at fault.
 */
export function loadCertificateFiles(files: { cert: string; key: string; ca?: string }): {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
} {
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
  };
  const cert = read(files.cert);
  const key = read(files.key);
  parsePair(cert, files.cert, key, files.key);
  let ca: Buffer | undefined;
  if (files.ca !== undefined) {
    ca = read(files.ca);
    try {
      new X509Certificate(ca);
    } catch (error) {
      throw new Error(`${files.ca} does not hold a PEM or DER certificate`, { cause: error });
    }
  }
  return { cert, key, ca };
}

/**
 * Calls `onChange` once the files at `paths` have changed (content, size or
 * inode, e.g. an atomic rename) and then stayed put for `debounceMs`. Polls
 * every second, which also sees files replaced by rename and works on network
 * file systems. The baseline is taken synchronously here, so a change made
 * right after the call is not missed (fs.watchFile takes its first stat
 * later, and would). `onChange` must not throw. Returns stop.
 */
export function watchCertificateFiles(
  paths: readonly string[],
  onChange: () => void,
  options: { readonly debounceMs?: number; readonly intervalMs?: number } = {},
): () => void {
  const debounceMs = options.debounceMs ?? 1000;
  const unique = [...new Set(paths)];
  const signature = (path: string): string => {
    try {
      const stat = statSync(path);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return 'missing';
    }
  };
  const seen = new Map(unique.map((path) => [path, signature(path)]));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = setInterval(() => {
    let changed = false;
    for (const path of unique) {
      const now = signature(path);
      if (now !== seen.get(path)) {
        seen.set(path, now);
        changed = true;
      }
    }
    if (!changed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) onChange();
    }, debounceMs);
    timer.unref();
  }, options.intervalMs ?? 1000);
  poll.unref();
  return () => {
    stopped = true;
    clearInterval(poll);
    if (timer) clearTimeout(timer);
  };
}
