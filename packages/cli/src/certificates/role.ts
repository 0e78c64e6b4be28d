import { type CertificateFacts, parseSpiffeId } from '@meshless/core';

/** What a certificate is for: a workload's leaf, or a signing certificate (root or intermediate). */
export type CertificateRole = 'leaf' | 'intermediate' | 'root';

/**
 * Tells a certificate's role from the certificate alone. A CA certificate whose SPIFFE ID has a
 * path is taken for a workload leaf that wrongly says CA:true (signing certificates carry, at most,
 * the trust domain's own ID), so inspect reports it against the leaf rules.
 *
 * @example
 * ```ts
 * roleOf(facts); // 'leaf'
 * ```
 */
export function roleOf(cert: CertificateFacts): CertificateRole {
  if (cert.isCa !== true || hasWorkloadId(cert)) return 'leaf';
  return isSelfIssued(cert) ? 'root' : 'intermediate';
}

/**
 * Whether `issuer` issued `subject`: names match and the signature verifies.
 *
 * @example
 * ```ts
 * issuedBy(chain[0], chain[1]); // true for a chain in order
 * ```
 */
export function issuedBy(subject: CertificateFacts, issuer: CertificateFacts): boolean {
  return subject.node.checkIssued(issuer.node) && subject.node.verify(issuer.node.publicKey);
}

function isSelfIssued(cert: CertificateFacts): boolean {
  return issuedBy(cert, cert);
}

function hasWorkloadId(cert: CertificateFacts): boolean {
  return cert.uris.some((uri) => {
    try {
      return parseSpiffeId(uri).path !== '';
    } catch {
      return false;
    }
  });
}
