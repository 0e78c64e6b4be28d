import { generateKeyPair, type KeyObject, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { MeshlessError, optionError } from '@meshless/core';

const generate = promisify(generateKeyPair);

/**
 * The key algorithms the dev CA can generate. ECDSA P-256 is the default everywhere.
 *
 * @example
 * ```ts
 * const keyAlgorithm: KeyAlgorithm = 'ed25519';
 * const ca = await createCa({ trustDomain: 'example.org', keyAlgorithm });
 * ```
 */
export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048' | 'rsa-3072' | 'ed25519';

/**
 * Every {@link KeyAlgorithm}, the default (`'ecdsa-p256'`) first.
 *
 * @example
 * ```ts
 * KEY_ALGORITHMS.includes(process.env.KEY_ALG as KeyAlgorithm); // validate a flag before use
 * ```
 */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = Object.freeze([
  'ecdsa-p256',
  'rsa-2048',
  'rsa-3072',
  'ed25519',
]);

export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ecdsa-p256';

/** A generated or loaded key pair, as Node key objects. */
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Checks a `keyAlgorithm` option; `undefined` gives `fallback`. Throws ERR_MESHLESS_INVALID_OPTION on anything else. */
export function keyAlgorithmOption(value: unknown, fallback: KeyAlgorithm): KeyAlgorithm {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value))
    return value as KeyAlgorithm;
  throw optionError(`keyAlgorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got ${JSON.stringify(value)}`);
}

/** Generates a fresh key pair. */
export async function generateKeys(algorithm: KeyAlgorithm): Promise<KeyPair> {
  switch (algorithm) {
    case 'ecdsa-p256':
      return generate('ec', { namedCurve: 'P-256' });
    case 'rsa-2048':
      return generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    case 'rsa-3072':
      return generate('rsa', { modulusLength: 3072, publicExponent: 0x10001 });
    case 'ed25519':
      return generate('ed25519');
  }
}

/** The private key as unencrypted PKCS#8 PEM. */
export function pkcs8Pem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** The public key as SubjectPublicKeyInfo DER. */
export function spkiDer(publicKey: KeyObject): Uint8Array {
  return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
}

/**
 * Names a key the way {@link KeyAlgorithm} does (`ecdsa-p256`, `rsa-2048`, `ed25519`), also for keys
 * made elsewhere (`ecdsa-p384`, `rsa-4096`).
 */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return details.namedCurve === 'prime256v1' ? 'ecdsa-p256' : `ecdsa-${curveName(details.namedCurve)}`;
    case 'rsa':
      return `rsa-${details.modulusLength ?? 0}`;
    default:
      return key.asymmetricKeyType ?? 'unknown';
  }
}

function curveName(curve: string | undefined): string {
  if (curve === 'secp384r1') return 'p384';
  if (curve === 'secp521r1') return 'p521';
  return curve ?? 'unknown';
}

/**
 * Throws `ERR_MESHLESS_KEY_WEAK` for keys meshless refuses (the same rule as `loadMaterial`): RSA under
 * 2048 bits, EC keys off P-256/P-384/P-521, anything but RSA, ECDSA and EdDSA.
 */
export function assertStrongKey(key: KeyObject, what: string, context: Record<string, unknown> = {}): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  const strong =
    (type === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    (type === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? '')) ||
    type === 'ed25519' ||
    type === 'ed448';
  if (!strong) {
    throw new MeshlessError(
      'ERR_MESHLESS_KEY_WEAK',
      `${what} has a ${describeKey(key)} key (RSA >= 2048 bits, ECDSA P-256/384/521 or Ed25519 required)`,
      {
        ...context,
        actual: describeKey(key),
      },
    );
  }
}

/**
 * Turns a private key into a WebCrypto signing key: ECDSA (P-256/384/521) and RSA PKCS#1 v1.5 sign
 * with SHA-256, Ed25519 and Ed448 with themselves. Other keys throw `ERR_MESHLESS_KEY_WEAK`.
 */
export async function signingKey(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  assertStrongKey(privateKey, 'the signing key', { input: 'key' });
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, importAlgorithm(privateKey), false, ['sign']);
}

function importAlgorithm(
  key: KeyObject,
): webcrypto.AlgorithmIdentifier | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const namedCurve = curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : 'P-256';
      return { name: 'ECDSA', namedCurve };
    }
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'ed448':
      return { name: 'Ed448' };
    default:
      throw new MeshlessError('ERR_MESHLESS_KEY_WEAK', `cannot sign with a ${describeKey(key)} key`, {
        input: 'key',
        actual: describeKey(key),
      });
  }
}
