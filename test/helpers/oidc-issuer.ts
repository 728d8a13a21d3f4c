import {
  constants,
  createHmac,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
} from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OpenID provider for tests: key pairs, a JWKS, signed tokens (good
 * and deliberately bad), and a loopback server for the JWKS.
 *
 *   const issuer = TestIssuer.create({ issuer: 'https://idp.test', audience: 'pgwarden' });
 *   const token = issuer.token({ sub: 'alice' }, { alg: 'ES256' });
 *   const jwks = await issuer.serve(); // jwks.url, jwks.requests
 */
export type TestAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface SignOptions {
  /**
   * The header alg (default ES256). RS256/ES256/EdDSA sign with `key`; HS*
   * with `secret`; anything else ("none" included) gets an empty signature.
   */
  readonly alg?: string;
  /** Signing key; default the issuer's first published key for the alg. */
  readonly key?: TestKey;
  /** Header kid; default the signing key's kid; null leaves it out. */
  readonly kid?: string | null;
  /** Extra header members (jwk, jku, crit, typ ...), merged last. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** HMAC secret for HS256/384/512. */
  readonly secret?: Buffer | string;
}

/** Claims to merge over the defaults; a value of undefined removes the claim. */
export type ClaimOverrides = Readonly<Record<string, unknown>>;

export class TestIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly #now: () => number;
  readonly #keys: TestKey[] = [];

  private constructor(issuer: string, audience: string, now: () => number) {
    this.issuer = issuer;
    this.audience = audience;
    this.#now = now;
  }

  /** An issuer with one published key per algorithm: kids rsa-1, ec-1, ed-1. */
  static create(
    options: { issuer?: string; audience?: string; now?: () => number } = {},
  ): TestIssuer {
    const issuer = new TestIssuer(
      options.issuer ?? 'https://idp.test',
      options.audience ?? 'pgwarden',
      options.now ?? Date.now,
    );
    issuer.addKey('RS256', 'rsa-1');
    issuer.addKey('ES256', 'ec-1');
    issuer.addKey('EdDSA', 'ed-1');
    return issuer;
  }

  /** A fresh key pair, not published. RSA size defaults to 2048 bits. */
  static generateKey(alg: TestAlgorithm, kid: string, rsaBits = 2048): TestKey {
    const pair =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: rsaBits })
        : alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519');
    return { kid, alg, ...pair };
  }

  /** Generates and publishes a key (key rotation: the JWKS lists it from now on). */
  addKey(alg: TestAlgorithm, kid: string, rsaBits = 2048): TestKey {
    const key = TestIssuer.generateKey(alg, kid, rsaBits);
    this.#keys.push(key);
    return key;
  }

  /** Stops publishing a key. */
  removeKey(kid: string): void {
    const index = this.#keys.findIndex((key) => key.kid === kid);
    if (index >= 0) this.#keys.splice(index, 1);
  }

  /** The first published key for `alg`. */
  key(alg: TestAlgorithm): TestKey {
    const key = this.#keys.find((candidate) => candidate.alg === alg);
    if (key === undefined) throw new Error(`no published ${alg} key`);
    return key;
  }

  /** The JWKS document: public members plus kid, use and alg. */
  jwks(): { keys: JsonWebKey[] } {
    return { keys: this.#keys.map(publicJwk) };
  }

  /** Writes the JWKS to `path` and returns the path. */
  writeJwks(path: string): string {
    writeFileSync(path, JSON.stringify(this.jwks()));
    return path;
  }

  /** Default claims (iss, aud, sub alice, iat now, exp in 10 minutes) with overrides. */
  claims(overrides: ClaimOverrides = {}): Record<string, unknown> {
    const now = Math.floor(this.#now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: this.audience,
      sub: 'alice',
      iat: now,
      exp: now + 600,
    };
    for (const [name, value] of Object.entries(overrides))
      if (value === undefined) delete claims[name];
      else claims[name] = value;
    return claims;
  }

  /** A signed token for the default claims with overrides. */
  token(overrides: ClaimOverrides = {}, options: SignOptions = {}): string {
    return this.sign(this.claims(overrides), options);
  }

  /** Signs any payload (an object is JSON-encoded) as a JWS compact serialization. */
  sign(payload: Readonly<Record<string, unknown>> | string, options: SignOptions = {}): string {
    const alg = options.alg ?? 'ES256';
    const key = options.key ?? (isTestAlgorithm(alg) ? this.key(alg) : undefined);
    const kid = options.kid === undefined ? key?.kid : options.kid;
    const header = {
      alg,
      ...(kid === null || kid === undefined ? {} : { kid }),
      ...options.header,
    };
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const input = `${b64(JSON.stringify(header))}.${b64(body)}`;
    return `${input}.${signature(alg, input, key, options.secret).toString('base64url')}`;
  }

  /** Serves the live JWKS at http://127.0.0.1:PORT/jwks.json. Close it after the test. */
  async serve(): Promise<JwksServer> {
    const server = new JwksServer(() => JSON.stringify(this.jwks()));
    await server.listen();
    return server;
  }
}

/** The JWKS over loopback http, counting requests; status, body and delay can be changed. */
export class JwksServer {
  /** Requests received so far. */
  requests = 0;
  /** Status to answer with (200 by default). */
  status = 200;
  /** A body to send instead of the JWKS. */
  body: string | undefined;
  /** Delay before answering, to test timeouts. */
  delayMs = 0;
  /** Send the body chunked, without content-length, to test size limits on streams. */
  chunked = false;
  /** Extra response headers (e.g. location, with status 302). */
  headers: Record<string, string> = {};
  url = '';
  readonly #server: Server;

  constructor(jwks: () => string) {
    this.#server = createServer((request, response) => {
      this.requests++;
      const answer = () => {
        if (request.url !== '/jwks.json') return void response.writeHead(404).end();
        response.writeHead(this.status, { 'content-type': 'application/json', ...this.headers });
        // write() before end(): no content-length, the body goes chunked.
        if (this.chunked) response.write(this.body ?? jwks());
        response.end(this.chunked ? undefined : (this.body ?? jwks()));
      };
      if (this.delayMs > 0) setTimeout(answer, this.delayMs).unref();
      else answer();
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/jwks.json`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** The same token with claims changed and the signature left as it was. */
export function tamperPayload(token: string, changes: ClaimOverrides): string {
  const [header, payload, sig] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
  return `${header}.${b64(JSON.stringify({ ...claims, ...changes }))}.${sig}`;
}

/** The same token with one bit of its signature flipped. */
export function tamperSignature(token: string): string {
  const [header, payload, sig] = token.split('.');
  const bytes = Buffer.from(sig ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

export function publicJwk(key: TestKey): JsonWebKey {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, use: 'sig', alg: key.alg };
}

function signature(
  alg: string,
  input: string,
  key: TestKey | undefined,
  secret: Buffer | string | undefined,
): Buffer {
  const data = Buffer.from(input, 'ascii');
  const hmac = /^HS(256|384|512)$/.exec(alg);
  if (hmac !== null)
    return createHmac(`sha${hmac[1]}`, secret ?? '')
      .update(data)
      .digest();
  if (!isTestAlgorithm(alg)) return Buffer.alloc(0);
  if (key === undefined) throw new Error(`no key to sign ${alg}`);
  if (alg === 'RS256')
    return sign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING });
  if (alg === 'ES256')
    return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return sign(null, data, key.privateKey);
}

function isTestAlgorithm(alg: string): alg is TestAlgorithm {
  return alg === 'RS256' || alg === 'ES256' || alg === 'EdDSA';
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
