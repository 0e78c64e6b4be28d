import type { KeyObject } from 'node:crypto';
import { MeshlessError } from './errors.js';

const ALLOWED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MIN_RSA_BITS = 2048;

/**
 * Throws `ERR_MESHLESS_KEY_WEAK` for keys meshless refuses: RSA under 2048 bits, EC keys off the
 * NIST P-256/384/521 curves, DSA and DH. Ed25519 and Ed448 are accepted.
 *
 * @example
 * ```ts
 * assertStrongKey(readPrivateKey(readFileSync('tls.key')), 'key (tls.key)', { input: 'key' });
 * ```
 */
export function assertStrongKey(key: KeyObject, what: string, context: Record<string, unknown> = {}): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  let problem: string | undefined;
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) problem = `an RSA key of ${bits} bits (at least ${MIN_RSA_BITS} required)`;
  } else if (type === 'ec') {
    if (!ALLOWED_CURVES.has(details.namedCurve ?? ''))
      problem = `an EC key on curve ${details.namedCurve ?? 'unknown'} (P-256, P-384 or P-521 required)`;
  } else if (type !== 'ed25519' && type !== 'ed448') {
    problem = `a ${type ?? 'unknown'} key (RSA, ECDSA or EdDSA required)`;
  }
  if (problem) {
    throw new MeshlessError('ERR_MESHLESS_KEY_WEAK', `${what} has ${problem}`, {
      ...context,
      actual: problem,
    });
  }
}
