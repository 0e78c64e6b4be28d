import { createPrivateKey, type KeyObject } from 'node:crypto';
import { MeshlessError } from './errors.js';
import { decodePem, describe, type PemInput } from './pem.js';

const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
// OpenSSL writes curve parameters before a SEC1 key; they are not a second key.
const IGNORED_LABELS = new Set(['EC PARAMETERS']);

/**
 * Reads a private key from PEM: PKCS#8, PKCS#1 (RSA), SEC1 (EC), encrypted PKCS#8 and legacy
 * encrypted PEM with a passphrase.
 *
 * @throws MeshlessError `ERR_MESHLESS_PEM_INVALID`, `ERR_MESHLESS_KEY_ENCRYPTED` (no passphrase given),
 * `ERR_MESHLESS_KEY_DECRYPT_FAILED` (wrong passphrase) or `ERR_MESHLESS_KEY_INVALID`.
 * @example
 * ```ts
 * const key = readPrivateKey(readFileSync('tls.key'), { passphrase: process.env.KEY_PASSPHRASE });
 * key.asymmetricKeyType; // 'ec'
 * ```
 */
export function readPrivateKey(
  input: PemInput,
  options: { passphrase?: string; file?: string } = {},
): KeyObject {
  const { passphrase, file } = options;
  const context = { input: 'key', ...(file ? { file } : {}) };
  const where = describe('key', file);
  const blocks = decodePem(input, 'key', file).filter((b) => !IGNORED_LABELS.has(b.label));
  const keys = blocks.filter((b) => KEY_LABELS.has(b.label));
  const others = blocks.filter((b) => !KEY_LABELS.has(b.label));
  if (others.length > 0) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEM_INVALID',
      `${where} holds a ${others[0]?.label} block where a private key was expected`,
      { ...context, actual: others[0]?.label },
    );
  }
  if (keys.length !== 1) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEM_INVALID',
      `${where} must hold exactly one private key, found ${keys.length}`,
      context,
    );
  }
  const block = keys[0]!;
  const legacyEncrypted = block.headers.some((h) => h.key === 'Proc-Type' && h.value.includes('ENCRYPTED'));
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || legacyEncrypted;
  if (encrypted && !passphrase) {
    throw new MeshlessError(
      'ERR_MESHLESS_KEY_ENCRYPTED',
      `${where} is encrypted and no passphrase was given`,
      context,
    );
  }
  // Legacy encrypted PEM needs its headers (cipher and IV), which re-encoding drops.
  const pem = legacyEncrypted
    ? typeof input === 'string'
      ? input
      : Buffer.from(input).toString('latin1')
    : block.pem;
  try {
    return createPrivateKey(
      encrypted ? { key: pem, format: 'pem', passphrase: passphrase as string } : { key: pem, format: 'pem' },
    );
  } catch (cause) {
    if (encrypted) {
      throw new MeshlessError(
        'ERR_MESHLESS_KEY_DECRYPT_FAILED',
        `${where} could not be decrypted: wrong passphrase or corrupt key`,
        context,
        cause,
      );
    }
    throw new MeshlessError(
      'ERR_MESHLESS_KEY_INVALID',
      `${where} is not a readable private key (${(cause as Error).message})`,
      context,
      cause,
    );
  }
}
