import { MeshlessError, parseTrustDomain, type TrustDomain } from '@meshless/core';
import { type CryptoKey, importJWK, type JWK } from 'jose';
import { type JwtSvidAlgorithm, keyFitsAlgorithm } from './algorithms.js';

/** How a bundle treats a JWK without `use`. */
export type MissingUse = 'accept' | 'ignore';

/** Options of {@link parseJwtBundle}. */
export interface ParseJwtBundleOptions {
  /**
   * A key without `use`: `'ignore'` (the SPIFFE bundle format, TB §4.2.2, for bundle files) or
   * `'accept'` (the Workload API's `FetchJWTBundles`, whose bundles are plain JWK Sets: SPIRE sends
   * its JWT authorities there without `use`). Keys with a `use` other than `jwt-svid` are ignored
   * either way. Default `'ignore'`.
   */
  missingUse?: MissingUse;
}

// An RSA modulus shorter than this is not a key meshless trusts (the same floor as for certificates).
const MIN_RSA_MODULUS_BITS = 2048;

/**
 * The JWT authorities of one trust domain: the public keys JWT-SVIDs of that trust domain are
 * verified with. Keys that cannot serve (unknown `kty`, `use` other than `jwt-svid`, private key
 * parts, RSA under 2048 bits) are left out; a bundle with no usable key trusts nothing.
 *
 * @example
 * ```ts
 * const bundle = parseJwtBundle('example.org', await readFile('bundle.json', 'utf8'));
 * bundle.keys.length;      // usable JWT authorities
 * bundle.keyById('k1');    // the JWK with kid "k1", if any
 * ```
 */
export class JwtBundle {
  readonly trustDomain: TrustDomain;
  /** The usable keys, in bundle order. */
  readonly keys: readonly JWK[];
  readonly #imported = new Map<string, Promise<CryptoKey | Uint8Array>>();

  /** @internal use {@link parseJwtBundle}. */
  constructor(trustDomain: TrustDomain, keys: readonly JWK[]) {
    this.trustDomain = trustDomain;
    this.keys = Object.freeze(keys.map((key) => Object.freeze({ ...key })));
  }

  /** The usable key with this `kid`, if any. */
  keyById(kid: string): JWK | undefined {
    return this.keys.find((key) => key.kid === kid);
  }

  /**
   * The key imported for `alg` (cached), or undefined when it does not fit `alg` or does not import.
   * @internal
   */
  async importFor(key: JWK, alg: JwtSvidAlgorithm): Promise<CryptoKey | Uint8Array | undefined> {
    if (!keyFitsAlgorithm(key, alg)) return undefined;
    const slot = `${this.keys.indexOf(key)}:${alg}`;
    let imported = this.#imported.get(slot);
    if (!imported) {
      imported = importJWK(key, alg);
      this.#imported.set(slot, imported);
    }
    return imported.catch(() => undefined);
  }
}

/**
 * Reads a JWT bundle: a JWK Set (`{"keys": [...]}`, the SPIFFE bundle format and the Workload API's
 * `FetchJWTBundles` entries) as JSON text, bytes or a parsed object. Unusable keys are skipped, not
 * fatal (TB §4.1.3, §4.2): the rest of the bundle keeps working.
 *
 * @throws MeshlessError `ERR_MESHLESS_JWT_BUNDLE_INVALID` when the input is not a JWK Set or the trust
 * domain is not valid.
 * @example
 * ```ts
 * const bundle = parseJwtBundle('example.org', '{"keys":[{"kty":"EC","crv":"P-256","x":"…","y":"…","kid":"k1","use":"jwt-svid"}]}');
 * ```
 */
export function parseJwtBundle(
  trustDomain: string | TrustDomain,
  input: string | Uint8Array | object,
  options: ParseJwtBundleOptions = {},
): JwtBundle {
  let td: TrustDomain;
  try {
    td = typeof trustDomain === 'string' ? parseTrustDomain(trustDomain) : trustDomain;
  } catch (cause) {
    throw invalid('trust-domain', `"${String(trustDomain)}" is not a trust domain`, cause);
  }
  const set = jsonOf(input, td.name);
  if (!set || typeof set !== 'object' || !Array.isArray((set as { keys?: unknown }).keys)) {
    throw invalid(
      'no-keys',
      `the JWT bundle of ${td.name} is not a JWK Set (no "keys" array)`,
      undefined,
      td,
    );
  }
  const missingUse = options.missingUse ?? 'ignore';
  const keys = ((set as { keys: unknown[] }).keys as JWK[]).filter((key) => usable(key, missingUse));
  return new JwtBundle(td, keys);
}

function jsonOf(input: string | Uint8Array | object, name: string): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw invalid('json', `the JWT bundle of ${name} is not JSON`, cause);
  }
}

function usable(key: JWK, missingUse: MissingUse): boolean {
  if (!key || typeof key !== 'object') return false;
  if (key.use === undefined ? missingUse === 'ignore' : key.use !== 'jwt-svid') return false;
  // A bundle publishes public keys; one with private parts is a leaked key, not an authority.
  if ('d' in key || 'k' in key) return false;
  if (key.kty === 'EC') return typeof key.x === 'string' && typeof key.y === 'string';
  if (key.kty === 'RSA') return typeof key.n === 'string' && rsaBits(key.n) >= MIN_RSA_MODULUS_BITS;
  return false;
}

function rsaBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let leading = 0;
  while (leading < bytes.length && bytes[leading] === 0) leading++;
  const first = bytes[leading] ?? 0;
  return (bytes.length - leading - 1) * 8 + (first === 0 ? 0 : Math.floor(Math.log2(first)) + 1);
}

function invalid(rule: string, message: string, cause?: unknown, td?: TrustDomain): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_JWT_BUNDLE_INVALID',
    message,
    { rule, ...(td ? { trustDomain: td.name } : {}) },
    cause,
  );
}
