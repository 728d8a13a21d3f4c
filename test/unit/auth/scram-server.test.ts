import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { scramSha256Verifier } from '../../../src/auth/scram-secret.js';
import { ScramClientSession } from '../../../src/gateway/auth/scram-client.js';
import { ScramError, type ScramErrorKind } from '../../../src/gateway/auth/scram-error.js';
import { ScramServerSession } from '../../../src/gateway/auth/scram-server.js';
import {
  mockScramVerifier,
  parseScramVerifier,
  type ScramVerifier,
} from '../../../src/gateway/auth/scram-verifier.js';

/** RFC 7677 section 3: user "user", password "pencil". */
const RFC = {
  salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst:
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const rfcVerifier = parseScramVerifier(scramSha256Verifier('pencil', RFC.salt, 4096));
assert.ok(rfcVerifier);
const verifier: ScramVerifier = rfcVerifier;

const bytes = (text: string) => Buffer.from(text, 'utf8');

function rfcServer() {
  return new ScramServerSession({ verifier, channelBinding: null, nonce: RFC.serverNonce });
}

function throwsScram(run: () => unknown, kind: ScramErrorKind, message?: string): ScramError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ScramError, `expected a ScramError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, `${message ?? ''}: ${caught.message}`);
  assert.equal(caught.sqlState, kind === 'malformed' ? '08P01' : '28P01');
  return caught;
}

describe('ScramServerSession: RFC 7677 exchange', () => {
  it('reproduces the RFC server-first and server-final messages', () => {
    const server = rfcServer();
    assert.equal(
      server.clientFirst('SCRAM-SHA-256', bytes(RFC.clientFirst)).toString(),
      RFC.serverFirst,
    );
    const { serverFinal, clientKey } = server.clientFinal(bytes(RFC.clientFinal));
    assert.equal(serverFinal.toString(), RFC.serverFinal);
    assert.deepEqual(createHash('sha256').update(clientKey).digest(), verifier.storedKey);
    assert.equal(server.channelBound, false);
  });

  it('rejects a wrong proof, without the proof in the message', () => {
    const server = rfcServer();
    server.clientFirst('SCRAM-SHA-256', bytes(RFC.clientFirst));
    const wrong = Buffer.from(RFC.proof, 'base64');
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    const wrongProof = wrong.toString('base64');
    const error = throwsScram(
      () => server.clientFinal(bytes(RFC.clientFinal.replace(RFC.proof, wrongProof))),
      'rejected',
    );
    assert.ok(!error.message.includes(wrongProof));
    assert.ok(!error.message.includes(wrongProof.slice(0, 12)));
    assert.ok(!error.message.includes(RFC.proof.slice(0, 12)));
    // The session is over: even the right proof is now out of order.
    throwsScram(() => server.clientFinal(bytes(RFC.clientFinal)), 'malformed');
  });

  it('fails an unknown user (mock verifier) like a wrong password', () => {
    const mock = mockScramVerifier('user', randomBytes(32));
    const server = new ScramServerSession({ verifier: mock, channelBinding: null });
    const client = new ScramClientSession({ password: 'pencil' });
    const serverFirst = server.clientFirst('SCRAM-SHA-256', client.clientFirst().data);
    assert.match(serverFirst.toString(), /,s=[A-Za-z0-9+/]{22}==,i=4096$/);
    throwsScram(() => server.clientFinal(client.serverFirst(serverFirst)), 'rejected');
  });
});

describe('ScramServerSession: mechanisms and channel binding', () => {
  const cbind = { type: 'tls-server-end-point' as const, data: randomBytes(32) };
  const nonce = 'fyko+d2lbbFgONRv9qkxdawL';

  function clientFinal(gs2Header: string, data: Buffer | null): Buffer {
    const c = Buffer.concat([bytes(gs2Header), ...(data ? [data] : [])]).toString('base64');
    return bytes(`c=${c},r=${nonce}${RFC.serverNonce},p=${RFC.proof}`);
  }

  it('offers PLUS only over TLS', () => {
    assert.deepEqual(ScramServerSession.mechanisms(true), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    assert.deepEqual(ScramServerSession.mechanisms(false), ['SCRAM-SHA-256']);
  });

  it('rejects PLUS whose c= carries other or no channel-binding data', () => {
    for (const data of [randomBytes(32), cbind.data.subarray(1), null]) {
      const server = new ScramServerSession({ verifier, channelBinding: cbind });
      const header = 'p=tls-server-end-point,,';
      const first = server.clientFirst('SCRAM-SHA-256-PLUS', bytes(`${header}n=,r=${nonce}`));
      // A valid proof over the client's own (wrong) c=: only the binding differs.
      const final = proveWithPassword('pencil', `n=,r=${nonce}`, first.toString(), {
        gs2Header: header,
        ...(data ? { data } : {}),
      });
      const error = throwsScram(() => server.clientFinal(bytes(final)), 'rejected');
      assert.match(error.message, /channel-binding/);
    }
  });

  it('accepts PLUS end to end with a real proof', () => {
    const server = new ScramServerSession({ verifier, channelBinding: cbind });
    const first = server.clientFirst(
      'SCRAM-SHA-256-PLUS',
      bytes(`p=tls-server-end-point,,n=,r=${nonce}`),
    );
    const final = proveWithPassword('pencil', `n=,r=${nonce}`, first.toString(), {
      gs2Header: 'p=tls-server-end-point,,',
      data: cbind.data,
    });
    const { serverFinal } = server.clientFinal(bytes(final));
    assert.match(serverFinal.toString(), /^v=/);
    assert.equal(server.channelBound, true);
  });

  it("rejects 'y' over TLS (downgrade) and accepts it without TLS", () => {
    const tls = new ScramServerSession({ verifier, channelBinding: cbind });
    throwsScram(() => tls.clientFirst('SCRAM-SHA-256', bytes(`y,,n=,r=${nonce}`)), 'rejected');
    const plain = new ScramServerSession({ verifier, channelBinding: null });
    const first = plain.clientFirst('SCRAM-SHA-256', bytes(`y,,n=,r=${nonce}`));
    const final = proveWithPassword('pencil', `n=,r=${nonce}`, first.toString(), {
      gs2Header: 'y,,',
    });
    plain.clientFinal(bytes(final));
  });

  it('rejects PLUS without TLS', () => {
    const server = new ScramServerSession({ verifier, channelBinding: null });
    throwsScram(
      () =>
        server.clientFirst('SCRAM-SHA-256-PLUS', bytes(`p=tls-server-end-point,,n=,r=${nonce}`)),
      'rejected',
    );
  });

  it("accepts 'n' with SCRAM-SHA-256 over TLS", () => {
    const server = new ScramServerSession({
      verifier,
      channelBinding: cbind,
      nonce: RFC.serverNonce,
    });
    server.clientFirst('SCRAM-SHA-256', bytes(RFC.clientFirst));
    assert.equal(
      server.clientFinal(bytes(RFC.clientFinal)).serverFinal.toString(),
      RFC.serverFinal,
    );
    assert.equal(server.channelBound, false);
  });

  it('refuses inconsistent mechanism and flag combinations as malformed', () => {
    for (const [mechanism, message, tls] of [
      ['SCRAM-SHA-256-PLUS', `n,,n=,r=${nonce}`, true],
      ['SCRAM-SHA-256-PLUS', `y,,n=,r=${nonce}`, true],
      ['SCRAM-SHA-256', `p=tls-server-end-point,,n=,r=${nonce}`, true],
      ['SCRAM-SHA-256', `p=tls-server-end-point,,n=,r=${nonce}`, false],
      ['SCRAM-SHA-256-PLUS', `p=tls-unique,,n=,r=${nonce}`, true],
      ['SCRAM-SHA-1', `n,,n=,r=${nonce}`, false],
    ] as const) {
      const server = new ScramServerSession({ verifier, channelBinding: tls ? cbind : null });
      throwsScram(() => server.clientFirst(mechanism, bytes(message)), 'malformed', message);
    }
  });

  it("rejects a client-final whose c= does not repeat client-first's GS2 header", () => {
    // E.g. an attacker rewrote "y" to "n" in client-first to hide a downgrade.
    const server = new ScramServerSession({
      verifier,
      channelBinding: null,
      nonce: RFC.serverNonce,
    });
    server.clientFirst('SCRAM-SHA-256', bytes(`n,,n=,r=${nonce}`));
    const error = throwsScram(() => server.clientFinal(clientFinal('y,,', null)), 'rejected');
    assert.match(error.message, /channel-binding/);
  });
});

describe('ScramServerSession: malformed input', () => {
  const first =
    (message: string, mechanism = 'SCRAM-SHA-256') =>
    () =>
      rfcServer().clientFirst(mechanism, bytes(message));
  const final = (message: string) => () => {
    const server = rfcServer();
    server.clientFirst('SCRAM-SHA-256', bytes(RFC.clientFirst));
    return server.clientFinal(bytes(message));
  };
  const finalWithout = RFC.clientFinal.slice(0, RFC.clientFinal.indexOf(',p='));
  const combined = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';

  const cases: Record<string, () => unknown> = {
    'empty client-first': first(''),
    'no GS2 header': first('n=user,r=abc'),
    'bad cbind flag': first('x,,n=user,r=abc'),
    authzid: first('n,a=admin,n=user,r=abc'),
    'mandatory extension in client-first': first('n,,m=ext,n=user,r=abc'),
    'trailing m= extension': first('n,,n=user,r=abc,m=ext'),
    'missing username': first('n,,r=abc'),
    'missing nonce': first('n,,n=user'),
    'empty nonce': first('n,,n=user,r='),
    'nonce with a space': first('n,,n=user,r=a b'),
    'not an attribute': first('n,,n=user,r=abc,garbage'),
    'NUL byte': first('n,,n=user,r=abc\0'),
    'missing proof': final(finalWithout),
    'proof not last': final(`c=biws,p=${RFC.proof},r=${combined}`),
    'missing channel binding': final(`r=${combined},p=${RFC.proof}`),
    'bad base64 proof': final(`${finalWithout},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ`),
    'short proof': final(`${finalWithout},p=dHzbZapW`),
    'bad base64 channel binding': final(`c=bi*s,r=${combined},p=${RFC.proof}`),
    'wrong nonce': final(`c=biws,r=${combined}x,p=${RFC.proof}`),
    'client nonce only': final(`c=biws,r=rOprNGfwEbeRWgbNEkqO,p=${RFC.proof}`),
    'extension in client-final': final(`c=biws,r=${combined},m=x,p=${RFC.proof}`),
    'final before first': () => rfcServer().clientFinal(bytes(RFC.clientFinal)),
    'first twice': () => {
      const server = rfcServer();
      server.clientFirst('SCRAM-SHA-256', bytes(RFC.clientFirst));
      return server.clientFirst('SCRAM-SHA-256', bytes(RFC.clientFirst));
    },
    'final after success': () => {
      const server = rfcServer();
      server.clientFirst('SCRAM-SHA-256', bytes(RFC.clientFirst));
      server.clientFinal(bytes(RFC.clientFinal));
      return server.clientFinal(bytes(RFC.clientFinal));
    },
  };
  for (const [name, run] of Object.entries(cases)) {
    it(name, () => {
      const error = throwsScram(run, 'malformed', name);
      assert.ok(!error.message.includes(RFC.proof.slice(0, 12)));
    });
  }

  it('rejects invalid UTF-8 bytes', () => {
    const server = rfcServer();
    throwsScram(
      () => server.clientFirst('SCRAM-SHA-256', Buffer.from([0x6e, 0x2c, 0x2c, 0xff])),
      'malformed',
    );
  });

  it('ignores optional extensions after the nonce (RFC 5802 section 7)', () => {
    const server = rfcServer();
    server.clientFirst('SCRAM-SHA-256', bytes('n,,n=user,r=abc,x=future'));
  });
});

/** An independent minimal client for messages ScramClientSession cannot produce. */
function proveWithPassword(
  password: string,
  clientFirstBare: string,
  serverFirst: string,
  binding: { gs2Header: string; data?: Buffer },
): string {
  const match = /^r=([^,]+),s=([^,]+),i=(\d+)$/.exec(serverFirst);
  assert.ok(match);
  const [, combined = '', salt = '', iterations = ''] = match;
  const parsed = parseScramVerifier(
    scramSha256Verifier(password, Buffer.from(salt, 'base64'), Number(iterations)),
  );
  assert.ok(parsed);
  const c = Buffer.concat([bytes(binding.gs2Header), ...(binding.data ? [binding.data] : [])]);
  const withoutProof = `c=${c.toString('base64')},r=${combined}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  // Recover ClientKey the long way round: PBKDF2 here, not via scram-client.ts.
  const salted = pbkdf2Sync(
    password,
    Buffer.from(salt, 'base64'),
    Number(iterations),
    32,
    'sha256',
  );
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const signature = createHmac('sha256', parsed.storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
  return `${withoutProof},p=${proof.toString('base64')}`;
}
