/**
 * RFC 5280 key usage bits as `CertificateFacts.keyUsage` carries them (the numbering of
 * @peculiar/x509's `KeyUsageFlags`: the first bit of the BIT STRING is 1).
 *
 * @example
 * ```ts
 * if (!(facts.keyUsage! & KeyUsageFlags.digitalSignature)) throw new Error('cannot sign');
 * ```
 */
export const KeyUsageFlags = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const;
