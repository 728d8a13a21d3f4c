import { timingSafeEqual } from 'node:crypto';
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
  SCRAM_SHA_256_PLUS,
  sha256,
  xor,
} from './scram-common.js';
import { ScramError } from './scram-error.js';
import type { ScramVerifier } from './scram-verifier.js';

/** Channel binding data of the client's TLS connection (RFC 5929 section 4). */
export interface TlsServerEndPoint {
  readonly type: 'tls-server-end-point';
  /** Hash of the gateway's certificate, with its signature hash (SHA-256 for MD5/SHA-1). */
  readonly data: Buffer;
}

export interface ScramServerOptions {
  /** The role's verifier, or mockScramVerifier(...) for an unknown role. */
  readonly verifier: ScramVerifier;
  /** null when the client connection is not over TLS. */
  readonly channelBinding: TlsServerEndPoint | null;
  /** The server's part of the nonce; random unless a test fixes it. */
  readonly nonce?: string;
}

export interface ScramServerResult {
  /** server-final-message ("v=<ServerSignature>"), to send as AuthenticationSASLFinal. */
  readonly serverFinal: Buffer;
  /** The client's ClientKey, recovered from its proof: for SCRAM pass-through only. */
  readonly clientKey: Buffer;
}

type State = 'initial' | 'challenged' | 'done' | 'failed';

/**
 * The server side of one SCRAM-SHA-256(-PLUS) exchange (RFC 5802 sections
 * 3, 5, 7; RFC 7677; PostgreSQL docs 55.3.1), against a stored verifier: the
 * password is never known. Any error, including a call out of order, ends
 * the session; later calls throw 'malformed'.
 */
export class ScramServerSession {
  readonly #verifier: ScramVerifier;
  readonly #channelBinding: TlsServerEndPoint | null;
  readonly #serverNonce: string;
  #state: State = 'initial';
  #gs2Header = '';
  #nonce = '';
  #clientFirstBare = '';
  #serverFirst = '';
  #channelBound = false;

  /** SASL mechanisms to offer in AuthenticationSASL, preferred first. */
  static mechanisms(tls: boolean): string[] {
    return tls ? [SCRAM_SHA_256_PLUS, SCRAM_SHA_256] : [SCRAM_SHA_256];
  }

  constructor(options: ScramServerOptions) {
    const nonce = options.nonce ?? randomNonce();
    if (!isPrintable(nonce)) throw new TypeError('the server nonce must be printable ASCII');
    const { storedKey, serverKey } = options.verifier;
    if (storedKey.length !== SCRAM_KEY_LENGTH || serverKey.length !== SCRAM_KEY_LENGTH) {
      throw new TypeError('the verifier keys must be 32 bytes');
    }
    if (options.channelBinding && options.channelBinding.data.length === 0) {
      throw new TypeError('channel binding data must not be empty');
    }
    this.#verifier = options.verifier;
    this.#channelBinding = options.channelBinding;
    this.#serverNonce = nonce;
  }

  /** Whether the exchange used channel binding (SCRAM-SHA-256-PLUS); for the audit log. */
  get channelBound(): boolean {
    return this.#channelBound;
  }

  /** Handles SASLInitialResponse; returns server-first-message (AuthenticationSASLContinue). */
  clientFirst(mechanism: string, data: Buffer): Buffer {
    return this.#step('initial', () => this.#clientFirst(mechanism, data));
  }

  /** Handles SASLResponse (client-final-message); throws unless the proof is right. */
  clientFinal(data: Buffer): ScramServerResult {
    return this.#step('challenged', () => this.#clientFinal(data));
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

  #clientFirst(mechanism: string, data: Buffer): Buffer {
    const plus = mechanism === SCRAM_SHA_256_PLUS;
    if (!plus && mechanism !== SCRAM_SHA_256) {
      throw new ScramError('malformed', 'client selected an unsupported SASL mechanism');
    }
    const text = decodeMessage(data, 'client-first-message');

    // RFC 5802 section 7: gs2-header = gs2-cbind-flag "," [ authzid ] ","
    const flagEnd = text.indexOf(',');
    const headerEnd = flagEnd < 0 ? -1 : text.indexOf(',', flagEnd + 1);
    if (headerEnd < 0) throw new ScramError('malformed', 'client-first-message lacks a GS2 header');
    const flag = text.slice(0, flagEnd);
    const cbindName = flag.startsWith('p=') ? flag.slice(2) : undefined;
    if (flag !== 'n' && flag !== 'y' && !(cbindName && /^[A-Za-z0-9.-]+$/.test(cbindName))) {
      throw new ScramError('malformed', 'client-first-message has an invalid channel-binding flag');
    }
    if (headerEnd !== flagEnd + 1) {
      // RFC 5802 section 5.1 "a": PostgreSQL supports no authorization identity.
      throw new ScramError('malformed', 'client sent an authorization identity (not supported)');
    }

    // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
    const bare = text.slice(headerEnd + 1);
    const attributes = parseAttributes(bare, 'client-first-message');
    if (attributes[0]?.name === 'm') {
      throw new ScramError('malformed', 'client-first-message requires an unsupported extension');
    }
    // The username is ignored: PostgreSQL takes the role from the startup packet.
    const [username, nonce, ...extensions] = attributes;
    if (username?.name !== 'n' || nonce?.name !== 'r') {
      throw new ScramError('malformed', 'client-first-message lacks the username or nonce');
    }
    if (!isPrintable(nonce.value)) {
      throw new ScramError('malformed', 'client-first-message has an invalid nonce');
    }
    checkExtensions(extensions, 'client-first-message');

    // Channel-binding negotiation (RFC 5802 section 6; PostgreSQL docs 55.3.1).
    if (plus && !this.#channelBinding) {
      throw new ScramError(
        'rejected',
        'client selected SCRAM-SHA-256-PLUS on a connection without TLS',
      );
    }
    if (cbindName !== undefined) {
      if (!plus) {
        throw new ScramError('malformed', 'client sent channel binding with SCRAM-SHA-256');
      }
      if (cbindName !== 'tls-server-end-point') {
        throw new ScramError('malformed', 'client requested an unsupported channel-binding type');
      }
    } else if (plus) {
      throw new ScramError(
        'malformed',
        'client selected SCRAM-SHA-256-PLUS without channel binding',
      );
    } else if (flag === 'y' && this.#channelBinding) {
      // The client can bind but believes the server cannot: a downgrade.
      throw new ScramError(
        'rejected',
        'channel-binding downgrade: client sent "y" but PLUS was offered',
      );
    }

    this.#channelBound = plus;
    this.#gs2Header = text.slice(0, headerEnd + 1);
    this.#clientFirstBare = bare;
    this.#nonce = nonce.value + this.#serverNonce;
    const { salt, iterations } = this.#verifier;
    this.#serverFirst = `r=${this.#nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.#state = 'challenged';
    return Buffer.from(this.#serverFirst, 'utf8');
  }

  #clientFinal(data: Buffer): ScramServerResult {
    const text = decodeMessage(data, 'client-final-message');

    // client-final-message = channel-binding "," nonce ["," extensions] "," proof
    const attributes = parseAttributes(text, 'client-final-message');
    const proofAt = attributes.findIndex((attribute) => attribute.name === 'p');
    const [binding, nonce, ...extensions] = attributes.slice(0, proofAt);
    if (proofAt !== attributes.length - 1 || binding?.name !== 'c' || nonce?.name !== 'r') {
      throw new ScramError('malformed', 'client-final-message lacks or misorders c, r or p');
    }
    checkExtensions(extensions, 'client-final-message');
    if (!isBase64(binding.value)) {
      throw new ScramError('malformed', 'client-final-message has invalid channel-binding data');
    }
    const proof = decodeKey(attributes[proofAt]?.value ?? '', 'client proof');
    if (nonce.value !== this.#nonce) {
      throw new ScramError('malformed', 'client-final-message nonce does not match');
    }

    // RFC 5802 section 7 "c": base64(gs2-header [cbind-data]), exactly. This also
    // catches a cbind flag altered in client-first-message, which c= authenticates.
    const cbindData = this.#channelBound ? (this.#channelBinding?.data ?? Buffer.alloc(0)) : null;
    const expected = Buffer.concat([
      Buffer.from(this.#gs2Header, 'utf8'),
      ...(cbindData ? [cbindData] : []),
    ]).toString('base64');
    if (binding.value !== expected) {
      throw new ScramError('rejected', 'channel-binding data does not match the connection');
    }

    // RFC 5802 section 3: AuthMessage, ClientSignature, ClientKey = proof XOR signature.
    const withoutProof = text.slice(0, text.lastIndexOf(',p='));
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const { storedKey, serverKey } = this.#verifier;
    const clientKey = xor(proof, hmac(storedKey, authMessage));
    if (!timingSafeEqual(sha256(clientKey), storedKey)) {
      throw new ScramError('rejected', 'SCRAM proof does not match the stored verifier');
    }

    this.#state = 'done';
    const serverSignature = hmac(serverKey, authMessage).toString('base64');
    return { serverFinal: Buffer.from(`v=${serverSignature}`, 'utf8'), clientKey };
  }
}
