import { timingSafeEqual } from 'node:crypto';
import { scramKeys } from '../../auth/scram-secret.js';
import { saslprep } from './saslprep.js';
import {
  checkExtensions,
  decodeKey,
  decodeMessage,
  hmac,
  isBase64,
  isPrintable,
  parseAttributes,
  randomNonce,
  SCRAM_KEY_LENGTH,
  SCRAM_SHA_256,
  sha256,
  xor,
} from './scram-common.js';
import { ScramError } from './scram-error.js';

/**
 * The lowest iteration count accepted from a server: RFC 7677 section 4
 * ("at least 4096"), PostgreSQL's default. A lower count would make a
 * captured proof cheaper to attack offline.
 */
export const SCRAM_MIN_ITERATIONS = 4096;

export type ScramClientOptions =
  | {
      /** ClientKey recovered by ScramServerSession (SCRAM pass-through). */
      readonly clientKey: Buffer;
      /** ServerKey from the role's verifier, to check the backend's ServerSignature. */
      readonly serverKey?: Buffer;
      readonly nonce?: string;
    }
  | {
      /** Plain password; SASLprep'd as PostgreSQL does before PBKDF2. */
      readonly password: string;
      readonly nonce?: string;
    };

type State = 'initial' | 'first-sent' | 'final-sent' | 'done' | 'failed';

/**
 * The client side of SCRAM-SHA-256 (RFC 5802 sections 3, 5, 7; RFC 7677),
 * used by the gateway to log in to the backend. No channel binding (gs2
 * header "n,,") and an empty username, as PostgreSQL clients send: the
 * backend takes the role from the startup packet. Any error ends the session.
 */
export class ScramClientSession {
  #password: string | undefined;
  #clientKey: Buffer | undefined;
  #serverKey: Buffer | undefined;
  readonly #clientNonce: string;
  #state: State = 'initial';
  #clientFirstBare = '';
  #authMessage = '';

  constructor(options: ScramClientOptions) {
    const nonce = options.nonce ?? randomNonce();
    if (!isPrintable(nonce)) throw new TypeError('the client nonce must be printable ASCII');
    this.#clientNonce = nonce;
    if ('password' in options) {
      this.#password = options.password;
    } else {
      if (options.clientKey.length !== SCRAM_KEY_LENGTH) {
        throw new TypeError('ClientKey must be 32 bytes');
      }
      if (options.serverKey && options.serverKey.length !== SCRAM_KEY_LENGTH) {
        throw new TypeError('ServerKey must be 32 bytes');
      }
      this.#clientKey = Buffer.from(options.clientKey);
      this.#serverKey = options.serverKey && Buffer.from(options.serverKey);
    }
  }

  /** The SASLInitialResponse: mechanism and client-first-message. */
  clientFirst(): { mechanism: 'SCRAM-SHA-256'; data: Buffer } {
    return this.#step('initial', () => {
      this.#clientFirstBare = `n=,r=${this.#clientNonce}`;
      this.#state = 'first-sent';
      return { mechanism: SCRAM_SHA_256, data: Buffer.from(`n,,${this.#clientFirstBare}`, 'utf8') };
    });
  }

  /** Takes server-first-message (AuthenticationSASLContinue); returns client-final-message. */
  serverFirst(data: Buffer): Buffer {
    return this.#step('first-sent', () => this.#serverFirst(data));
  }

  /** Takes server-final-message (AuthenticationSASLFinal); throws unless it is acceptable. */
  serverFinal(data: Buffer): void {
    this.#step('final-sent', () => this.#serverFinal(data));
  }

  #step<T>(expected: State, run: () => T): T {
    if (this.#state !== expected) {
      this.#state = 'failed';
      throw new ScramError('malformed', 'SCRAM message out of order');
    }
    try {
      return run();
    } catch (error) {
      this.#state = 'failed';
      throw error;
    }
  }

  #serverFirst(data: Buffer): Buffer {
    const text = decodeMessage(data, 'server-first-message');
    // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
    const attributes = parseAttributes(text, 'server-first-message');
    if (attributes[0]?.name === 'm') {
      throw new ScramError('malformed', 'server-first-message requires an unsupported extension');
    }
    const [nonce, salt, iterations, ...extensions] = attributes;
    if (nonce?.name !== 'r' || salt?.name !== 's' || iterations?.name !== 'i') {
      throw new ScramError('malformed', 'server-first-message lacks r, s or i');
    }
    checkExtensions(extensions, 'server-first-message');
    // RFC 5802 section 5.1 "r": the server appends its nonce to ours.
    if (
      !isPrintable(nonce.value) ||
      !nonce.value.startsWith(this.#clientNonce) ||
      nonce.value.length === this.#clientNonce.length
    ) {
      throw new ScramError('malformed', 'server nonce does not extend the client nonce');
    }
    if (!isBase64(salt.value) || salt.value.length === 0) {
      throw new ScramError('malformed', 'server-first-message has an invalid salt');
    }
    if (!/^[1-9][0-9]{0,9}$/.test(iterations.value) || Number(iterations.value) > 0x7fffffff) {
      throw new ScramError('malformed', 'server-first-message has an invalid iteration count');
    }
    const count = Number(iterations.value);
    if (count < SCRAM_MIN_ITERATIONS) {
      throw new ScramError(
        'rejected',
        `server asked for fewer than ${SCRAM_MIN_ITERATIONS} iterations`,
      );
    }

    let clientKey = this.#clientKey;
    if (this.#password !== undefined) {
      // RFC 5802 section 3: SaltedPassword = Hi(Normalize(password), salt, i).
      const keys = scramKeys(saslprep(this.#password), Buffer.from(salt.value, 'base64'), count);
      this.#password = undefined;
      clientKey = keys.clientKey;
      this.#serverKey = keys.serverKey;
    }
    if (!clientKey) throw new ScramError('malformed', 'SCRAM client has no key');

    // RFC 5802 section 3: ClientProof = ClientKey XOR HMAC(H(ClientKey), AuthMessage).
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce.value}`;
    this.#authMessage = `${this.#clientFirstBare},${text},${withoutProof}`;
    const proof = xor(clientKey, hmac(sha256(clientKey), this.#authMessage));
    this.#state = 'final-sent';
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  #serverFinal(data: Buffer): void {
    const text = decodeMessage(data, 'server-final-message');
    // server-final-message = (server-error / verifier) ["," extensions]
    const [outcome, ...extensions] = parseAttributes(text, 'server-final-message');
    if (outcome?.name === 'e') {
      throw new ScramError(
        'rejected',
        `backend refused SCRAM authentication: e=${clean(outcome.value)}`,
      );
    }
    if (outcome?.name !== 'v') {
      throw new ScramError('malformed', 'server-final-message lacks v or e');
    }
    checkExtensions(extensions, 'server-final-message');
    const signature = decodeKey(outcome.value, 'server signature');
    // RFC 5802 section 3: ServerSignature = HMAC(ServerKey, AuthMessage).
    if (this.#serverKey && !timingSafeEqual(signature, hmac(this.#serverKey, this.#authMessage))) {
      throw new ScramError('rejected', 'backend server signature does not match');
    }
    this.#state = 'done';
  }
}

/** The server's error text, made safe for a log line (RFC 5802 section 7: server-error-value). */
function clean(text: string): string {
  return text.replace(/[^\x21-\x7e]/g, '?').slice(0, 64);
}
