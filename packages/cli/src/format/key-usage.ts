// RFC 5280 key usage bits in the numbering @peculiar/x509's KeyUsageFlags uses (and that
// CertificateFacts.keyUsage carries): bit 0 of the ASN.1 BIT STRING is the lowest flag.
const KEY_USAGE_NAMES: readonly (readonly [flag: number, name: string])[] = [
  [1, 'digitalSignature'],
  [2, 'nonRepudiation'],
  [4, 'keyEncipherment'],
  [8, 'dataEncipherment'],
  [16, 'keyAgreement'],
  [32, 'keyCertSign'],
  [64, 'cRLSign'],
  [128, 'encipherOnly'],
  [256, 'decipherOnly'],
];

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/**
 * The names of the key usage bits set in `flags` (RFC 5280 order).
 *
 * @example
 * ```ts
 * keyUsageNames(33); // ['digitalSignature', 'keyCertSign']
 * ```
 */
export function keyUsageNames(flags: number): string[] {
  return KEY_USAGE_NAMES.filter(([flag]) => (flags & flag) !== 0).map(([, name]) => name);
}

/**
 * The name of an extended key usage OID, or the OID itself when it has no well-known name.
 *
 * @example
 * ```ts
 * extendedKeyUsageName('1.3.6.1.5.5.7.3.2'); // 'clientAuth'
 * ```
 */
export function extendedKeyUsageName(oid: string): string {
  return EKU_NAMES[oid] ?? oid;
}
