import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { fingerprintOf, sanNames } from './identity.js';
import { x509 } from './x509.js';

/**
 * One certificate, parsed once by both Node (for signature checks against OpenSSL) and
 * @peculiar/x509 (for extensions read from the DER), with the facts the checks need.
 */
export interface CertificateFacts {
  der: Uint8Array;
  pem: string;
  node: X509Certificate;
  parsed: x509.X509Certificate;
  fingerprint256: string;
  subject: string;
  /** `true`, `false`, or `undefined` when there is no basicConstraints extension. */
  isCa: boolean | undefined;
  /** Key usage bits (KeyUsageFlags), or `undefined` when there is no key usage extension. */
  keyUsage: number | undefined;
  uris: string[];
  signatureOid: string;
  /** The hash of the signature, or undefined when it cannot be told from the algorithm alone. */
  signatureHash: string | undefined;
}

/**
 * Parses a DER certificate into {@link CertificateFacts}; throws what the parsers throw. A building
 * block of `loadMaterial()`, exported for tools that run its checks one by one (`meshless verify`).
 *
 * @example
 * ```ts
 * const [block] = decodePem(readFileSync('tls.crt'), 'cert');
 * const leaf = certificateFacts(block.der, block.pem);
 * leaf.uris; // ['spiffe://example.org/ns/prod/sa/web']
 * ```
 */
export function certificateFacts(der: Uint8Array, pem: string): CertificateFacts {
  const node = new X509Certificate(der);
  const parsed = new x509.X509Certificate(der);
  const basic = parsed.getExtension(x509.BasicConstraintsExtension);
  const usage = parsed.getExtension(x509.KeyUsagesExtension);
  const asn = AsnConvert.parse(der, Certificate);
  return {
    der,
    pem,
    node,
    parsed,
    fingerprint256: fingerprintOf(der),
    subject: parsed.subject,
    isCa: basic ? basic.ca : undefined,
    keyUsage: usage ? usage.usages : undefined,
    uris: sanNames(parsed)
      .filter((n) => n.type === 'url')
      .map((n) => n.value),
    signatureOid: asn.signatureAlgorithm.algorithm,
    signatureHash: signatureHashOf(parsed),
  };
}

function signatureHashOf(cert: x509.X509Certificate): string | undefined {
  try {
    const algorithm = cert.signatureAlgorithm as { hash?: { name?: string } };
    return algorithm.hash?.name;
  } catch {
    return undefined;
  }
}
