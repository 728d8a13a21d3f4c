// PostgreSQL docs 55.7 "Message Formats": the Authentication* messages ('R').
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { BackendMessageType } from '../message-types.js';

/** The Int32 after the length that tells the Authentication* messages apart. */
export const AuthenticationCode = {
  OK: 0,
  KERBEROS_V5: 2,
  CLEARTEXT_PASSWORD: 3,
  MD5_PASSWORD: 5,
  GSS: 7,
  GSS_CONTINUE: 8,
  SSPI: 9,
  SASL: 10,
  SASL_CONTINUE: 11,
  SASL_FINAL: 12,
} as const;

const MD5_SALT_LENGTH = 4;

export type Authentication =
  | { readonly kind: 'ok' }
  | { readonly kind: 'sasl'; readonly mechanisms: string[] }
  | { readonly kind: 'sasl-continue'; readonly data: Buffer }
  | { readonly kind: 'sasl-final'; readonly data: Buffer }
  | { readonly kind: 'cleartext-password' }
  | { readonly kind: 'md5-password'; readonly salt: Buffer }
  | { readonly kind: 'other'; readonly code: number };

function authentication(code: number, build?: (writer: BufferWriter) => void): Buffer {
  return new BufferWriter()
    .message(BackendMessageType.AUTHENTICATION, (w) => {
      w.int32(code);
      build?.(w);
    })
    .toBuffer();
}

/** Serialised once; do not modify. */
export const AUTHENTICATION_OK: Buffer = authentication(AuthenticationCode.OK);
/** Serialised once; do not modify. */
export const AUTHENTICATION_CLEARTEXT_PASSWORD: Buffer = authentication(
  AuthenticationCode.CLEARTEXT_PASSWORD,
);

export function serializeAuthenticationSasl(mechanisms: readonly string[]): Buffer {
  if (mechanisms.length === 0) throw new RangeError('AuthenticationSASL needs a mechanism');
  return authentication(AuthenticationCode.SASL, (w) => {
    for (const mechanism of mechanisms) {
      if (mechanism === '') throw new RangeError('a SASL mechanism name cannot be empty');
      w.cstring(mechanism);
    }
    w.uint8(0);
  });
}

export function serializeAuthenticationSaslContinue(data: Uint8Array): Buffer {
  return authentication(AuthenticationCode.SASL_CONTINUE, (w) => w.bytes(data));
}

export function serializeAuthenticationSaslFinal(data: Uint8Array): Buffer {
  return authentication(AuthenticationCode.SASL_FINAL, (w) => w.bytes(data));
}

/** Parses any Authentication* body; the Buffers returned are views into it. */
export function parseAuthentication(body: Buffer): Authentication {
  const reader = new BufferReader(body, 'Authentication');
  const code = reader.int32();
  switch (code) {
    case AuthenticationCode.OK:
      reader.end();
      return { kind: 'ok' };
    case AuthenticationCode.CLEARTEXT_PASSWORD:
      reader.end();
      return { kind: 'cleartext-password' };
    case AuthenticationCode.MD5_PASSWORD: {
      const salt = reader.bytes(MD5_SALT_LENGTH);
      reader.end();
      return { kind: 'md5-password', salt };
    }
    case AuthenticationCode.SASL:
      return { kind: 'sasl', mechanisms: parseMechanisms(reader) };
    case AuthenticationCode.SASL_CONTINUE:
      return { kind: 'sasl-continue', data: reader.rest() };
    case AuthenticationCode.SASL_FINAL:
      return { kind: 'sasl-final', data: reader.rest() };
    default:
      return { kind: 'other', code };
  }
}

function parseMechanisms(reader: BufferReader): string[] {
  const mechanisms: string[] = [];
  for (;;) {
    if (reader.remaining() === 0) throw reader.fail('the SASL mechanism list has no terminator');
    const mechanism = reader.cstring();
    if (mechanism === '') break;
    mechanisms.push(mechanism);
  }
  reader.end();
  if (mechanisms.length === 0) throw reader.fail('AuthenticationSASL lists no mechanism');
  return mechanisms;
}
