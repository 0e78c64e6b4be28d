import type { KeyObject } from 'node:crypto';

/** What a public or private key is, for display and JSON. */
export interface KeyDescription {
  /** `ec`, `rsa`, `rsa-pss`, `ed25519`, ... as Node names it. */
  type: string;
  /** Key size in bits (RSA modulus, EC curve size, 256 for Ed25519). */
  bits?: number;
  /** The EC curve, as OpenSSL names it (`prime256v1`). */
  curve?: string;
  /** `ECDSA P-256`, `RSA 2048 bits`, `Ed25519`. */
  text: string;
}

const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
  secp256k1: { name: 'secp256k1', bits: 256 },
};

/**
 * Describes a key: type, size and curve.
 *
 * @example
 * ```ts
 * describeKey(new X509Certificate(pem).publicKey).text; // 'ECDSA P-256'
 * ```
 */
export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    const known = CURVES[curve];
    return {
      type,
      curve,
      ...(known ? { bits: known.bits } : {}),
      text: `ECDSA ${known?.name ?? curve}`,
    };
  }
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    return { type, bits, text: `${type === 'rsa' ? 'RSA' : 'RSA-PSS'} ${bits} bits` };
  }
  if (type === 'ed25519') return { type, bits: 256, text: 'Ed25519' };
  if (type === 'ed448') return { type, bits: 456, text: 'Ed448' };
  return { type, text: type };
}
