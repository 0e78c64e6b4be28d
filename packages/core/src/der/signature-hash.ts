import { readOid } from './primitives.js';
import { type DerElement, expectTag, readChildren, readWhole, Tag } from './reader.js';

const RSASSA_PSS = '1.2.840.113549.1.1.10';

// The hash of each signature algorithm whose OID names it, as WebCrypto names hashes.
const HASH_OF_SIGNATURE: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'SHA-1',
  '1.2.840.113549.1.1.11': 'SHA-256',
  '1.2.840.113549.1.1.12': 'SHA-384',
  '1.2.840.113549.1.1.13': 'SHA-512',
  '1.2.840.10045.4.1': 'SHA-1',
  '1.2.840.10045.4.3.2': 'SHA-256',
  '1.2.840.10045.4.3.3': 'SHA-384',
  '1.2.840.10045.4.3.4': 'SHA-512',
};

// Hash algorithm OIDs, for RSASSA-PSS parameters.
const HASH_NAMES: Record<string, string> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
  '1.2.840.113549.2.5': 'MD5',
};

/**
 * The hash a signature algorithm uses, or `undefined` when the algorithm alone does not tell
 * (Ed25519, an unknown OID). For RSASSA-PSS it is read from the parameters (SHA-1 when they omit it,
 * as RFC 4055 defaults).
 *
 * @example
 * ```ts
 * signatureHashOf(der, signatureAlgorithm); // 'SHA-256'
 * ```
 */
export function signatureHashOf(
  der: Uint8Array,
  algorithm: DerElement,
): { oid: string; hash: string | undefined } {
  expectTag(algorithm, Tag.sequence, 'the signature AlgorithmIdentifier', algorithm.start);
  const [oidElement, parameters] = readChildren(der, algorithm);
  const oid = readOid(der, expectTag(oidElement, Tag.oid, 'the signature algorithm', algorithm.start));
  if (oid !== RSASSA_PSS) return { oid, hash: HASH_OF_SIGNATURE[oid] };
  if (!parameters || parameters.tag !== Tag.sequence) return { oid, hash: undefined };
  const [first] = readChildren(der, parameters);
  if (first?.tag !== 0xa0) return { oid, hash: 'SHA-1' };
  const hashAlgorithm = readWhole(der, first.start, first.end, first.depth + 1);
  expectTag(hashAlgorithm, Tag.sequence, 'the RSASSA-PSS hash AlgorithmIdentifier', first.start);
  const [hashOid] = readChildren(der, hashAlgorithm);
  const hashName = readOid(der, expectTag(hashOid, Tag.oid, 'the RSASSA-PSS hash algorithm', first.start));
  return { oid, hash: HASH_NAMES[hashName] ?? hashName };
}
