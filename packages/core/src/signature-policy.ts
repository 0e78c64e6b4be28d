import type { CertificateFacts } from './certificate-facts.js';
import { MeshlessError } from './errors.js';

// Signature algorithms with a broken hash. RSASSA-PSS is checked through its hash parameter.
const WEAK_SIGNATURE_OIDS = new Map([
  ['1.2.840.113549.1.1.2', 'md2WithRSAEncryption'],
  ['1.2.840.113549.1.1.3', 'md4WithRSAEncryption'],
  ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
  ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption'],
  ['1.3.14.3.2.29', 'sha1WithRSAEncryption (OIW)'],
  ['1.2.840.10045.4.1', 'ecdsa-with-SHA1'],
  ['1.2.840.10040.4.3', 'dsa-with-sha1'],
]);
const WEAK_HASHES = new Set(['SHA-1', 'MD5', 'MD2', 'MD4']);

/**
 * Throws `ERR_MESHLESS_SIGNATURE_WEAK` when a certificate is signed with SHA-1 or MD5 (or worse).
 * `role` names the certificate in the message (`leaf`, `intermediate`); the error's `context.input`
 * is the input it came from (`cert` for both), so callers can name the file.
 *
 * @example
 * ```ts
 * assertStrongSignature(certificateFacts(block.der, block.pem), 'leaf');
 * ```
 */
export function assertStrongSignature(cert: CertificateFacts, role: string, input = 'cert'): void {
  const weak =
    WEAK_SIGNATURE_OIDS.get(cert.signatureOid) ??
    (cert.signatureHash && WEAK_HASHES.has(cert.signatureHash) ? cert.signatureHash : undefined);
  if (weak) {
    throw new MeshlessError(
      'ERR_MESHLESS_SIGNATURE_WEAK',
      `${role} certificate "${cert.subject}" is signed with ${weak}; use SHA-256 or stronger`,
      { input, role, subject: cert.subject, fingerprint: cert.fingerprint256, actual: weak },
    );
  }
}
