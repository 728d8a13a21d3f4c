import { createHash } from 'node:crypto';
import { DER_TAG, decodeOid, readChildren, readTlv } from './der.js';
import { parseCertificate } from './x509-reader.js';

/**
 * Hash of each certificate signature algorithm (by OID) for RFC 5929 4.1:
 * "if the certificate's signatureAlgorithm uses a single hash function and
 * that hash function is either MD5 or SHA-1, then use SHA-256".
 */
const SIGNATURE_HASH: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption (MD5 -> SHA-256)
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption (SHA-1 -> SHA-256)
  '1.2.840.113549.1.1.14': 'sha224', // sha224WithRSAEncryption
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': 'sha512', // sha512WithRSAEncryption
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1 (SHA-1 -> SHA-256)
  '1.2.840.10045.4.3.1': 'sha224', // ecdsa-with-SHA224
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': 'sha512', // ecdsa-with-SHA512
  '1.2.840.10040.4.3': 'sha256', // dsa-with-sha1 (SHA-1 -> SHA-256)
  '2.16.840.1.101.3.4.3.2': 'sha256', // dsa-with-sha256
};

/** Hash algorithm OIDs (RFC 5754 2, RFC 3279 2.2.1) as they appear in RSASSA-PSS parameters. */
const HASH: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha256', // SHA-1 -> SHA-256
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The node hash name RFC 5929 4.1 picks for a DER certificate. */
export function channelBindingHash(certificateDer: Buffer): string {
  const { oid, parameters } = parseCertificate(certificateDer).signatureAlgorithm;
  if (oid === RSASSA_PSS) {
    // RFC 4055 3.1: RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] ... DEFAULT sha1, ... }.
    const hashField = parameters && readChildren(parameters.contents).find((f) => f.tag === 0xa0);
    if (!hashField) return 'sha256'; // default SHA-1 -> SHA-256
    const algorithm = readTlv(hashField.contents);
    const [hashOid] = readChildren(algorithm.contents);
    if (algorithm.tag !== DER_TAG.sequence || hashOid?.tag !== DER_TAG.oid) {
      throw new Error('malformed RSASSA-PSS parameters');
    }
    const hash = HASH[decodeOid(hashOid.contents)];
    if (hash) return hash;
    throw new Error('unsupported RSASSA-PSS hash algorithm for tls-server-end-point');
  }
  const hash = SIGNATURE_HASH[oid];
  // E.g. Ed25519 uses no single hash function: RFC 5929 defines no binding for it.
  if (!hash) throw new Error(`tls-server-end-point is undefined for signature algorithm ${oid}`);
  return hash;
}

/**
 * tls-server-end-point channel binding data (RFC 5929 4.1) for SCRAM-SHA-256-PLUS
 * (RFC 5802 6, RFC 7677): the hash of the DER server certificate.
 */
export function tlsServerEndPoint(certificateDer: Buffer): Buffer {
  return createHash(channelBindingHash(certificateDer)).update(certificateDer).digest();
}
