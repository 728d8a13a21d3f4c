import { createPublicKey, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  ia5String,
  implicit,
  integer,
  namedBitString,
  octetString,
  oid,
  sequence,
  set,
  time,
  utf8String,
} from './der.js';
import { ipAddressBytes } from './ip-address.js';
import {
  certificateKeyIdentifier,
  derToPem,
  keyIdentifier,
  OID,
  parseCertificate,
  pemToDer,
} from './x509-reader.js';

export interface CertificateOptions {
  /** Subject CN; at most 64 characters (RFC 5280 appendix A, ub-common-name). */
  readonly commonName: string;
  /** Subject O; "pgwarden" unless given. */
  readonly organization?: string;
  /**
   * The issuing CA's certificate (PEM): its subject becomes our issuer and its
   * key identifier our authorityKeyIdentifier. Absent for a self-signed certificate.
   */
  readonly issuerCertificate?: string;
  /** The key the certificate certifies (a private key is reduced to its public half). */
  readonly subjectKey: KeyObject;
  /** ECDSA P-256 private key of the issuer (of the subject when self-signed). */
  readonly signingKey: KeyObject;
  /** Positive serial; 16 random octets unless given (RFC 5280 4.1.2.2: at most 20). */
  readonly serialNumber?: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A CA (keyCertSign, cRLSign; pathlen 0) or a TLS server leaf (digitalSignature, serverAuth). */
  readonly ca: boolean;
  /** subjectAltName dNSName entries (ASCII; IDNs must be given in A-label form). */
  readonly dnsNames?: readonly string[];
  /** subjectAltName iPAddress entries, IPv4 or IPv6 text. */
  readonly ipAddresses?: readonly string[];
}

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** A random positive serial of 16 octets (CA/B Baseline Requirements 7.1: 64+ random bits). */
export function randomSerialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40; // positive, and no leading zero octet to strip
  return serial;
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (4.1). */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** Name: one RDN per attribute, O then CN (4.1.2.4: UTF8String). */
function name(organization: string, commonName: string): Buffer {
  const rdn = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(rdn(OID.organizationName, organization), rdn(OID.commonName, commonName));
}

function isP256PrivateKey(key: KeyObject): boolean {
  return (
    key.type === 'private' &&
    key.asymmetricKeyType === 'ec' &&
    key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
  );
}

/**
 * Whether a certificate can hold `name` as a dNSName (RFC 5280 4.2.1.6, RFC 1034
 * preferred syntax; a leading "*." wildcard and "_" allowed; ASCII only).
 */
export function isCertificateDnsName(name: string): boolean {
  return name.length <= 253 && DNS_NAME.test(name);
}

/** subjectAltName GeneralNames (4.2.1.6): dNSName [2] IA5String, iPAddress [7] OCTET STRING. */
function generalNames(dnsNames: readonly string[], ipAddresses: readonly string[]): Buffer {
  const names: Buffer[] = [];
  for (const dnsName of dnsNames) {
    if (!isCertificateDnsName(dnsName)) {
      throw new Error(`"${dnsName}" is not a DNS name a certificate can hold`);
    }
    names.push(implicit(2, ia5String(dnsName)));
  }
  for (const address of ipAddresses) {
    const bytes = ipAddressBytes(address);
    if (!bytes) throw new Error(`"${address}" is not an IP address a certificate can hold`);
    names.push(implicit(7, octetString(bytes)));
  }
  return sequence(...names);
}

/**
 * An X.509 v3 certificate (RFC 5280 4.1) signed with ecdsa-with-SHA256
 * (RFC 5758 3.2), as PEM.
 */
export function buildCertificate(options: CertificateOptions): string {
  const { commonName, notBefore, notAfter, ca } = options;
  const organization = options.organization ?? 'pgwarden';
  if (commonName.length === 0 || commonName.length > 64) {
    throw new Error('the common name must have 1 to 64 characters');
  }
  if (!(notAfter.getTime() > notBefore.getTime()))
    throw new Error('notAfter must follow notBefore');
  if (!isP256PrivateKey(options.signingKey)) {
    throw new Error('the signing key must be an ECDSA P-256 private key');
  }
  const subjectKey =
    options.subjectKey.type === 'private'
      ? createPublicKey(options.subjectKey)
      : options.subjectKey;
  const spki = subjectKey.export({ type: 'spki', format: 'der' });
  const signerSpki = createPublicKey(options.signingKey).export({ type: 'spki', format: 'der' });
  const subject = name(organization, commonName);
  const subjectKeyId = keyIdentifier(spki);

  let issuer = subject;
  let authorityKeyId = subjectKeyId;
  if (options.issuerCertificate === undefined) {
    if (!spki.equals(signerSpki)) {
      throw new Error('a self-signed certificate must be signed by its own key');
    }
  } else {
    if (!new X509Certificate(options.issuerCertificate).ca) {
      throw new Error('the issuer certificate is not a CA certificate');
    }
    const issuerStructure = parseCertificate(pemToDer(options.issuerCertificate));
    if (!issuerStructure.subjectPublicKeyInfo.equals(signerSpki)) {
      throw new Error('the signing key does not match the issuer certificate');
    }
    issuer = issuerStructure.subject;
    authorityKeyId = certificateKeyIdentifier(issuerStructure);
  }

  const serialNumber = options.serialNumber ?? randomSerialNumber();
  // 4.1.2.2: a positive integer of at most 20 octets (the Buffer is read as unsigned).
  const serial = integer(serialNumber);
  if (serialNumber.every((octet) => octet === 0) || serial.length - 2 > 20) {
    throw new Error('the serial number must be positive and at most 20 octets long');
  }

  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = options.ipAddresses ?? [];
  if (!ca && dnsNames.length + ipAddresses.length === 0) {
    throw new Error('a server certificate needs at least one DNS name or IP address');
  }

  const extensions: Buffer[] = [
    // 4.2.1.9: critical; cA DEFAULT FALSE is omitted for a leaf, pathLenConstraint 0 for our CA.
    extension(OID.basicConstraints, true, ca ? sequence(boolean(true), integer(0)) : sequence()),
    // 4.2.1.3: critical.
    extension(
      OID.keyUsage,
      true,
      namedBitString(
        ca ? [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign] : [KEY_USAGE.digitalSignature],
      ),
    ),
  ];
  // 4.2.1.12: id-kp-serverAuth.
  if (!ca) extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))));
  // 4.2.1.6: not critical, since the subject is not empty.
  if (dnsNames.length + ipAddresses.length > 0) {
    extensions.push(extension(OID.subjectAltName, false, generalNames(dnsNames, ipAddresses)));
  }
  // 4.2.1.2 and 4.2.1.1: keyIdentifier [0] IMPLICIT OCTET STRING.
  extensions.push(extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)));
  extensions.push(
    extension(
      OID.authorityKeyIdentifier,
      false,
      sequence(implicit(0, octetString(authorityKeyId))),
    ),
  );

  // RFC 5758 3.2: ecdsa-with-SHA256 has its parameters field absent.
  const signatureAlgorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbsCertificate = sequence(
    explicit(0, integer(2)), // 4.1.2.1: v3
    serial,
    signatureAlgorithm,
    issuer,
    sequence(time(notBefore), time(notAfter)), // 4.1.2.5
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  // RFC 5480 / RFC 5758: the signature value is the DER Ecdsa-Sig-Value in a BIT STRING.
  const signature = sign('sha256', tbsCertificate, options.signingKey);
  return derToPem(sequence(tbsCertificate, signatureAlgorithm, bitString(signature)));
}
