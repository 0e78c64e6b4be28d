import type { CertificateFacts } from '@meshless/core';

const SIGNATURE_NAMES: Record<string, string> = {
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

/**
 * The signature algorithm of a certificate as OpenSSL prints it (`ecdsa-with-SHA256`), with the
 * hash for RSASSA-PSS, or the OID when it has no well-known name.
 *
 * @example
 * ```ts
 * signatureName(facts); // 'sha256WithRSAEncryption'
 * ```
 */
export function signatureName(cert: CertificateFacts): string {
  const name = SIGNATURE_NAMES[cert.signatureOid] ?? cert.signatureOid;
  return name === 'RSASSA-PSS' && cert.signatureHash ? `${name} (${cert.signatureHash})` : name;
}
