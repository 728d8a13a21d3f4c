import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { scramSha256Verifier } from '../../../src/auth/scram-secret.js';
import { saslprep } from '../../../src/gateway/auth/saslprep.js';
import {
  type ScramClientOptions,
  ScramClientSession,
} from '../../../src/gateway/auth/scram-client.js';
import { ScramError, type ScramErrorKind } from '../../../src/gateway/auth/scram-error.js';
import {
  ScramServerSession,
  type TlsServerEndPoint,
} from '../../../src/gateway/auth/scram-server.js';
import {
  parseScramVerifier,
  type ScramVerifier,
} from '../../../src/gateway/auth/scram-verifier.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

function verifierFor(password: string, iterations = 4096): ScramVerifier {
  const verifier = parseScramVerifier(
    scramSha256Verifier(saslprep(password), undefined, iterations),
  );
  assert.ok(verifier);
  return verifier;
}

function throwsScram(run: () => unknown, kind: ScramErrorKind): ScramError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ScramError, `expected a ScramError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  return caught;
}

/** Runs a whole exchange; returns the ClientKey the server recovered. */
function login(
  client: ScramClientSession,
  verifier: ScramVerifier,
  channelBinding: TlsServerEndPoint | null = null,
): Buffer {
  const server = new ScramServerSession({ verifier, channelBinding });
  const { mechanism, data } = client.clientFirst();
  assert.ok(ScramServerSession.mechanisms(channelBinding !== null).includes(mechanism));
  const serverFirst = server.clientFirst(mechanism, data);
  const { serverFinal, clientKey } = server.clientFinal(client.serverFirst(serverFirst));
  client.serverFinal(serverFinal);
  return clientKey;
}

describe('ScramClientSession against ScramServerSession', () => {
  const verifier = verifierFor('correct horse battery staple');

  it('logs in with the password, sending "n,," and an empty username', () => {
    const client = new ScramClientSession({ password: 'correct horse battery staple' });
    const first = client.clientFirst();
    assert.equal(first.mechanism, 'SCRAM-SHA-256');
    assert.match(first.data.toString(), /^n,,n=,r=[A-Za-z0-9+/]{24}$/);
    const server = new ScramServerSession({ verifier, channelBinding: null });
    const final = client.serverFirst(server.clientFirst(first.mechanism, first.data));
    assert.match(final.toString(), /^c=biws,r=[^,]+,p=[A-Za-z0-9+/]{43}=$/);
    client.serverFinal(server.clientFinal(final).serverFinal);
  });

  it('logs in with a password that needs SASLprep', () => {
    const unicode = verifierFor('\u2168 p\u00e4ss\u00ad');
    login(new ScramClientSession({ password: '\u2168 p\u00e4ss\u00ad' }), unicode);
    login(new ScramClientSession({ password: 'IX p\u00e4ss' }), unicode);
  });

  it('logs in over TLS with SCRAM-SHA-256 and "n" (no binding on the backend link)', () => {
    const cbind = { type: 'tls-server-end-point', data: randomBytes(32) } as const;
    login(new ScramClientSession({ password: 'correct horse battery staple' }), verifier, cbind);
  });

  it('is rejected with a wrong password', () => {
    const client = new ScramClientSession({ password: 'correct horse battery stapler' });
    throwsScram(() => login(client, verifier), 'rejected');
  });

  it('verifies the server signature with a password', () => {
    const client = new ScramClientSession({ password: 'correct horse battery staple' });
    const server = new ScramServerSession({ verifier, channelBinding: null });
    const { mechanism, data } = client.clientFirst();
    server.clientFinal(client.serverFirst(server.clientFirst(mechanism, data)));
    throwsScram(
      () => client.serverFinal(bytes(`v=${randomBytes(32).toString('base64')}`)),
      'rejected',
    );
  });
});

describe('SCRAM pass-through', () => {
  const password = 'pass-through password';
  const verifier = verifierFor(password);

  it("drives the backend's exchange with the ClientKey recovered by the gateway", () => {
    // Client -> gateway (server A), which knows only the verifier.
    const clientKey = login(new ScramClientSession({ password }), verifier);
    assert.deepEqual(createHash('sha256').update(clientKey).digest(), verifier.storedKey);
    // Gateway -> backend (server B), which holds the same verifier.
    const gateway = new ScramClientSession({ clientKey, serverKey: verifier.serverKey });
    login(gateway, verifier);
  });

  it('works without a ServerKey (signature not checked)', () => {
    const clientKey = login(new ScramClientSession({ password }), verifier);
    login(new ScramClientSession({ clientKey }), verifier);
  });

  it('is rejected by a backend whose verifier differs', () => {
    const clientKey = login(new ScramClientSession({ password }), verifier);
    const gateway = new ScramClientSession({ clientKey, serverKey: verifier.serverKey });
    throwsScram(() => login(gateway, verifierFor(password)), 'rejected'); // new salt
  });

  it("detects a backend that does not know the verifier's ServerKey", () => {
    const clientKey = login(new ScramClientSession({ password }), verifier);
    const impostor = { ...verifier, serverKey: randomBytes(32) };
    const gateway = new ScramClientSession({ clientKey, serverKey: verifier.serverKey });
    throwsScram(() => login(gateway, impostor), 'rejected');
  });
});

describe('ScramClientSession: hostile or broken servers', () => {
  const nonce = 'clientnonce';
  const options: ScramClientOptions = { clientKey: randomBytes(32), nonce };
  const afterFirst = () => {
    const client = new ScramClientSession(options);
    client.clientFirst();
    return client;
  };
  const serverFirst = (message: string) => () => afterFirst().serverFirst(bytes(message));
  const salt = randomBytes(16).toString('base64');

  it('answers a well-formed challenge', () => {
    assert.match(
      afterFirst()
        .serverFirst(bytes(`r=${nonce}xyz,s=${salt},i=4096`))
        .toString(),
      /^c=biws,r=clientnoncexyz,p=/,
    );
  });

  it('refuses fewer than 4096 iterations', () => {
    throwsScram(serverFirst(`r=${nonce}xyz,s=${salt},i=4095`), 'rejected');
    throwsScram(serverFirst(`r=${nonce}xyz,s=${salt},i=1`), 'rejected');
  });

  for (const [name, message] of [
    ['foreign nonce', `r=other${nonce}xyz,s=${salt},i=4096`],
    ['nonce not extended', `r=${nonce},s=${salt},i=4096`],
    ['missing salt', `r=${nonce}xyz,i=4096`],
    ['bad base64 salt', `r=${nonce}xyz,s=abc,i=4096`],
    ['bad iteration count', `r=${nonce}xyz,s=${salt},i=4096x`],
    ['mandatory extension', `m=x,r=${nonce}xyz,s=${salt},i=4096`],
    ['e= instead of a challenge', 'e=other-error'],
  ] as const) {
    it(`treats ${name} as malformed`, () => {
      throwsScram(serverFirst(message), 'malformed');
    });
  }

  it('reports a server error from server-final as rejected, with its text', () => {
    const client = afterFirst();
    client.serverFirst(bytes(`r=${nonce}xyz,s=${salt},i=4096`));
    const error = throwsScram(() => client.serverFinal(bytes('e=invalid-proof')), 'rejected');
    assert.match(error.message, /invalid-proof/);
  });

  it('treats a malformed server-final as malformed', () => {
    for (const message of ['v=abc', 'x=1', 'v=', '']) {
      const client = afterFirst();
      client.serverFirst(bytes(`r=${nonce}xyz,s=${salt},i=4096`));
      throwsScram(() => client.serverFinal(bytes(message)), 'malformed');
    }
  });

  it('refuses calls out of order', () => {
    throwsScram(
      () => new ScramClientSession(options).serverFirst(bytes('r=x,s=y,i=1')),
      'malformed',
    );
    const client = afterFirst();
    throwsScram(() => client.clientFirst(), 'malformed');
    throwsScram(() => client.serverFirst(bytes(`r=${nonce}xyz,s=${salt},i=4096`)), 'malformed');
  });
});

/** node-postgres's own SCRAM client (pg/lib/crypto/sasl.js), as an independent implementation. */
interface PgSaslSession {
  mechanism: string;
  response: string;
}
interface PgSasl {
  startSession(mechanisms: string[], stream?: unknown): PgSaslSession;
  continueSession(
    session: PgSaslSession,
    password: string,
    serverData: string,
    stream?: unknown,
  ): Promise<void>;
  finalizeSession(session: PgSaslSession, serverData: string): void;
}
const pgSasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as PgSasl;

/**
 * A stand-in for a TLS socket: pg reads the signature algorithm from the
 * DER certificate (here a skeleton holding only sha256WithRSAEncryption) and
 * hashes the whole certificate with SHA-256 (RFC 5929 section 4.1).
 */
const fakeCertificate = Buffer.from('300f3000300b06092a864886f70d01010b', 'hex');
const fakeTlsSocket = { getPeerCertificate: () => ({ raw: fakeCertificate }) };
const endPoint: TlsServerEndPoint = {
  type: 'tls-server-end-point',
  data: createHash('sha256').update(fakeCertificate).digest(),
};

async function pgLogin(
  password: string,
  verifier: ScramVerifier,
  channelBinding: TlsServerEndPoint | null,
  options: { stream?: unknown; offered?: string[] } = {},
): Promise<ScramServerSession> {
  const server = new ScramServerSession({ verifier, channelBinding });
  const offered = options.offered ?? ScramServerSession.mechanisms(channelBinding !== null);
  const session = pgSasl.startSession(offered, options.stream);
  const serverFirst = server.clientFirst(session.mechanism, bytes(session.response));
  await pgSasl.continueSession(session, password, serverFirst.toString(), options.stream);
  const { serverFinal } = server.clientFinal(bytes(session.response));
  pgSasl.finalizeSession(session, serverFinal.toString());
  return server;
}

describe('node-postgres SCRAM client against ScramServerSession', () => {
  const password = 'pg interop \u00e9';
  const verifier = verifierFor(password);

  it('logs in with SCRAM-SHA-256 without TLS', async () => {
    assert.equal((await pgLogin(password, verifier, null)).channelBound, false);
  });

  it('logs in with SCRAM-SHA-256-PLUS over TLS', async () => {
    const server = await pgLogin(password, verifier, endPoint, { stream: fakeTlsSocket });
    assert.equal(server.channelBound, true);
  });

  it('is rejected when the TLS certificate differs (a man in the middle)', async () => {
    const other = { type: 'tls-server-end-point', data: randomBytes(32) } as const;
    await assert.rejects(pgLogin(password, verifier, other, { stream: fakeTlsSocket }), {
      name: 'ScramError',
      kind: 'rejected',
    });
  });

  it('is rejected with a wrong password', async () => {
    await assert.rejects(pgLogin('wrong', verifier, null), {
      name: 'ScramError',
      kind: 'rejected',
    });
  });

  it("accepts pg's 'y' without TLS and rejects it when PLUS was stripped from the offer", async () => {
    const yes = { stream: fakeTlsSocket, offered: ['SCRAM-SHA-256'] };
    await pgLogin(password, verifier, null, yes);
    await assert.rejects(pgLogin(password, verifier, endPoint, yes), {
      name: 'ScramError',
      kind: 'rejected',
    });
  });
});
