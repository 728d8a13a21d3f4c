import { createHash } from 'node:crypto';
import { DER_TAG, type DerElement, decodeOid, decodeTime, readChildren, readTlv } from './der.js';
import { formatIpAddress } from './ip-address.js';

/**
 * Just enough of an X.509 reader (RFC 5280 4.1) for what node's
 * X509Certificate does not expose on Node 20: the exact issuer/subject Name
 * encodings, the signature algorithm, the validity dates and the extensions.
 */

export const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

export interface CertificateExtension {
  readonly critical: boolean;
  /** The contents of extnValue's OCTET STRING: the extension's own DER. */
  readonly value: Buffer;
}

export interface CertificateStructure {
  /** The encoded TBSCertificate, as signed. */
  readonly tbsCertificate: Buffer;
  /** Certificate.signatureAlgorithm (RFC 5280 4.1.1.2). */
  readonly signatureAlgorithm: {
    readonly oid: string;
    readonly parameters: DerElement | undefined;
  };
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeyInfo: Buffer;
  readonly extensions: ReadonlyMap<string, CertificateExtension>;
}

function expect(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element?.tag !== tag) throw new Error(`malformed certificate: bad ${what}`);
  return element;
}

function algorithmIdentifier(element: DerElement | undefined, what: string) {
  const [algorithm, parameters] = readChildren(expect(element, DER_TAG.sequence, what).contents);
  return {
    oid: decodeOid(expect(algorithm, DER_TAG.oid, what).contents),
    parameters,
  };
}

/** Splits a DER certificate into the RFC 5280 4.1 fields pgwarden uses. */
export function parseCertificate(der: Buffer): CertificateStructure {
  const certificate = readTlv(der);
  if (certificate.tag !== DER_TAG.sequence || certificate.end !== der.length) {
    throw new Error('malformed certificate: not one DER SEQUENCE');
  }
  const [tbs, signatureAlgorithm] = readChildren(certificate.contents);
  const fields = readChildren(expect(tbs, DER_TAG.sequence, 'tbsCertificate').contents);
  // version [0] EXPLICIT is absent for v1 certificates.
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const validity = readChildren(expect(fields[at + 3], DER_TAG.sequence, 'validity').contents);
  const [notBefore, notAfter] = validity;
  if (!notBefore || !notAfter) throw new Error('malformed certificate: bad validity');
  const extensions = new Map<string, CertificateExtension>();
  const extensionsField = fields.slice(at + 6).find((field) => field.tag === 0xa3);
  if (extensionsField) {
    const list = readTlv(extensionsField.contents);
    for (const extension of readChildren(expect(list, DER_TAG.sequence, 'extensions').contents)) {
      const parts = readChildren(expect(extension, DER_TAG.sequence, 'extension').contents);
      const [id, second, third] = parts;
      // critical BOOLEAN DEFAULT FALSE: absent unless TRUE in DER.
      const hasCritical = second?.tag === DER_TAG.boolean;
      const critical = hasCritical && second.contents[0] !== 0;
      const value = expect(hasCritical ? third : second, DER_TAG.octetString, 'extension value');
      extensions.set(decodeOid(expect(id, DER_TAG.oid, 'extension id').contents), {
        critical,
        value: value.contents,
      });
    }
  }
  return {
    tbsCertificate: expect(tbs, DER_TAG.sequence, 'tbsCertificate').encoded,
    signatureAlgorithm: algorithmIdentifier(signatureAlgorithm, 'signatureAlgorithm'),
    issuer: expect(fields[at + 2], DER_TAG.sequence, 'issuer').encoded,
    subject: expect(fields[at + 4], DER_TAG.sequence, 'subject').encoded,
    notBefore: decodeTime(notBefore),
    notAfter: decodeTime(notAfter),
    subjectPublicKeyInfo: expect(fields[at + 5], DER_TAG.sequence, 'subjectPublicKeyInfo').encoded,
    extensions,
  };
}

/** The Buffer inside one PEM "-----BEGIN <label>-----" block (RFC 7468), the first if several. */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer {
  const match = new RegExp(
    `-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`,
  ).exec(pem);
  if (!match) throw new Error(`no PEM ${label} block found`);
  return Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64');
}

/** RFC 7468: base64 in lines of 64 characters. */
export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * RFC 5280 4.2.1.2 method (1): the SHA-1 of the subjectPublicKey BIT STRING's
 * value (no tag, length or unused-bits octet).
 */
export function keyIdentifier(subjectPublicKeyInfo: Buffer): Buffer {
  const spki = readTlv(subjectPublicKeyInfo);
  const [, subjectPublicKey] = readChildren(expect(spki, DER_TAG.sequence, 'SPKI').contents);
  const bits = expect(subjectPublicKey, DER_TAG.bitString, 'subjectPublicKey').contents;
  return createHash('sha1').update(bits.subarray(1)).digest();
}

/** The key identifier of a certificate: its subjectKeyIdentifier, else computed by method (1). */
export function certificateKeyIdentifier(structure: CertificateStructure): Buffer {
  const ski = structure.extensions.get(OID.subjectKeyIdentifier);
  if (ski) return expect(readTlv(ski.value), DER_TAG.octetString, 'subjectKeyIdentifier').contents;
  return keyIdentifier(structure.subjectPublicKeyInfo);
}

/** dNSName [2] and iPAddress [7] entries of a subjectAltName (RFC 5280 4.2.1.6); others skipped. */
export function subjectAltNames(structure: CertificateStructure): {
  dnsNames: string[];
  ipAddresses: string[];
} {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const san = structure.extensions.get(OID.subjectAltName);
  if (san) {
    for (const name of readChildren(expect(readTlv(san.value), DER_TAG.sequence, 'SAN').contents)) {
      if (name.tag === 0x82) dnsNames.push(name.contents.toString('latin1'));
      if (name.tag === 0x87) ipAddresses.push(formatIpAddress(name.contents));
    }
  }
  return { dnsNames, ipAddresses };
}
