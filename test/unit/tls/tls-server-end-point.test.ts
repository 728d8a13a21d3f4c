import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildCertificate } from '../../../src/gateway/tls/certificate-builder.js';
import {
  explicit,
  nullValue,
  oid,
  readChildren,
  readTlv,
  sequence,
} from '../../../src/gateway/tls/der.js';
import {
  channelBindingHash,
  tlsServerEndPoint,
} from '../../../src/gateway/tls/tls-server-end-point.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const der = new X509Certificate(
  buildCertificate({
    commonName: 'end point',
    subjectKey: key,
    signingKey: key,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2026-01-01T00:00:00Z'),
    ca: true,
  }),
).raw;

/** The same certificate with another outer signatureAlgorithm (the hash ignores the signature). */
function withSignatureAlgorithm(algorithm: Buffer): Buffer {
  const [tbs, , signature] = readChildren(readTlv(der).contents);
  assert.ok(tbs && signature);
  return sequence(tbs.encoded, algorithm, signature.encoded);
}

const digest = (hash: string, data: Buffer): Buffer => createHash(hash).update(data).digest();

describe('tls-server-end-point (RFC 5929 4.1)', () => {
  it('is the SHA-256 of the DER for an ecdsa-with-SHA256 certificate', () => {
    assert.equal(channelBindingHash(der), 'sha256');
    assert.deepEqual(tlsServerEndPoint(der), digest('sha256', der));
    assert.equal(tlsServerEndPoint(der).length, 32);
  });

  it("follows the signature algorithm's hash", () => {
    const cases: [Buffer, string][] = [
      [sequence(oid('1.2.840.113549.1.1.11'), nullValue()), 'sha256'], // sha256WithRSAEncryption
      [sequence(oid('1.2.840.113549.1.1.12'), nullValue()), 'sha384'],
      [sequence(oid('1.2.840.113549.1.1.13'), nullValue()), 'sha512'],
      [sequence(oid('1.2.840.10045.4.3.3')), 'sha384'], // ecdsa-with-SHA384
      [sequence(oid('1.2.840.10045.4.3.4')), 'sha512'],
    ];
    for (const [algorithm, hash] of cases) {
      const certificate = withSignatureAlgorithm(algorithm);
      assert.deepEqual(tlsServerEndPoint(certificate), digest(hash, certificate), hash);
    }
  });

  it('uses SHA-256 in place of MD5 and SHA-1', () => {
    for (const id of ['1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1']) {
      const certificate = withSignatureAlgorithm(sequence(oid(id), nullValue()));
      assert.deepEqual(tlsServerEndPoint(certificate), digest('sha256', certificate), id);
    }
  });

  it('reads the hash of RSASSA-PSS from its parameters (RFC 4055 3.1)', () => {
    const pss = (parameters: Buffer) => sequence(oid('1.2.840.113549.1.1.10'), parameters);
    const sha384 = withSignatureAlgorithm(
      pss(sequence(explicit(0, sequence(oid('2.16.840.1.101.3.4.2.2'), nullValue())))),
    );
    assert.deepEqual(tlsServerEndPoint(sha384), digest('sha384', sha384));
    const defaults = withSignatureAlgorithm(pss(sequence())); // SHA-1 by default -> SHA-256
    assert.deepEqual(tlsServerEndPoint(defaults), digest('sha256', defaults));
  });

  it('refuses algorithms without a single hash, such as Ed25519', () => {
    const ed25519 = withSignatureAlgorithm(sequence(oid('1.3.101.112')));
    assert.throws(() => tlsServerEndPoint(ed25519), /1\.3\.101\.112/);
    assert.throws(() => tlsServerEndPoint(Buffer.from('3000', 'hex')));
  });
});
