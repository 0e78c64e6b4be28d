import { X509Certificate } from 'node:crypto';
import { readCertificate } from './der/certificate.js';
import { fingerprintOf } from './identity.js';

/**
 * One certificate, parsed once by Node (for signature checks against OpenSSL) and by meshless's
 * bounded DER reader (for the extensions Node does not expose reliably), with the facts the checks
 * need. No ASN.1 framework is involved, so this runs on the request path too.
 */
export interface CertificateFacts {
  der: Uint8Array;
  pem: string;
  node: X509Certificate;
  fingerprint256: string;
  /** As `PeerIdentity.subject`: RFC 4514 style, `CN=web, O=Example`. */
  subject: string;
  issuer: string;
  /** Upper-case hexadecimal. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** `true`, `false`, or `undefined` when there is no basicConstraints extension. */
  isCa: boolean | undefined;
  /** basicConstraints pathLenConstraint, or `undefined` when absent. */
  pathLength: number | undefined;
  /** Key usage bits (see `KeyUsageFlags`), or `undefined` when there is no key usage extension. */
  keyUsage: number | undefined;
  uris: string[];
  dnsNames: string[];
  ipAddresses: string[];
  signatureOid: string;
  /** The hash of the signature, or undefined when it cannot be told from the algorithm alone. */
  signatureHash: string | undefined;
}

/**
 * Parses a DER certificate into {@link CertificateFacts}. Throws `ERR_MESHLESS_PEM_INVALID` for
 * DER that is not a certificate (and whatever Node throws for one OpenSSL refuses). A building
 * block of `loadMaterial()` and of the peer checks, exported for tools that run its checks one by
 * one (`meshless verify`).
 *
 * @example
 * ```ts
 * const [block] = decodePem(readFileSync('tls.crt'), 'cert');
 * const leaf = certificateFacts(block.der, block.pem);
 * leaf.uris; // ['spiffe://example.org/ns/prod/sa/web']
 * ```
 */
export function certificateFacts(der: Uint8Array, pem: string): CertificateFacts {
  const fields = readCertificate(der);
  const node = new X509Certificate(der);
  return {
    der,
    pem,
    node,
    fingerprint256: fingerprintOf(der),
    subject: fields.subject,
    issuer: fields.issuer,
    serialNumber: fields.serialNumber,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    isCa: fields.isCa,
    pathLength: fields.pathLength,
    keyUsage: fields.keyUsage,
    uris: fields.subjectAltNames.uris,
    dnsNames: fields.subjectAltNames.dnsNames,
    ipAddresses: fields.subjectAltNames.ipAddresses,
    signatureOid: fields.signatureOid,
    signatureHash: fields.signatureHash,
  };
}
