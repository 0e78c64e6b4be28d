import type { JWK } from 'jose';

/**
 * The JWS algorithms a JWT-SVID may be signed with (JWT-SVID §2.1): RSA PKCS#1 v1.5, ECDSA and
 * RSA-PSS with SHA-256/384/512. Nothing else: not `none`, not HMAC (a bundle holds public keys, so an
 * HMAC "verified" with one would be forgeable by anyone), not EdDSA.
 *
 * @example
 * ```ts
 * JWT_SVID_ALGORITHMS.includes('ES256'); // true
 * JWT_SVID_ALGORITHMS.includes('HS256'); // false
 * ```
 */
export const JWT_SVID_ALGORITHMS = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const);

/** One of {@link JWT_SVID_ALGORITHMS}. */
export type JwtSvidAlgorithm = (typeof JWT_SVID_ALGORITHMS)[number];

const CURVE_OF: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Tells whether `alg` is an allowed JWT-SVID algorithm. */
export function isJwtSvidAlgorithm(alg: unknown): alg is JwtSvidAlgorithm {
  return typeof alg === 'string' && (JWT_SVID_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * Tells whether a public key can verify `alg`: RSA keys for RS and PS, the matching curve for ES.
 * Checked before any signature work, so that an `alg` that does not fit the key is refused by rule
 * (JWT-SVID §4), not by whatever a crypto library happens to do with it.
 */
export function keyFitsAlgorithm(key: JWK, alg: JwtSvidAlgorithm): boolean {
  if (alg.startsWith('ES')) return key.kty === 'EC' && key.crv === CURVE_OF[alg];
  return key.kty === 'RSA';
}
