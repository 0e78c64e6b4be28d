import type { JwtBundle } from './jwt-bundle.js';

/**
 * Where JWT-SVID validation finds the JWT bundle of a trust domain: a static set, a bundle file, or
 * the Workload API's `FetchJWTBundles` stream. `undefined` means "no bundle: trust nothing from there".
 *
 * @example
 * ```ts
 * const bundles: JwtBundleSource = jwtBundleSet([parseJwtBundle('example.org', json)]);
 * bundles.bundleFor('example.org')?.keys.length;
 * ```
 */
export interface JwtBundleSource {
  bundleFor(trustDomain: string): JwtBundle | undefined;
}

/**
 * A fixed {@link JwtBundleSource} over bundles already read.
 *
 * @example
 * ```ts
 * const bundles = jwtBundleSet([parseJwtBundle('example.org', ownJson), parseJwtBundle('partner.org', theirJson)]);
 * await validateJwtSvid(token, { audience: 'orders', bundles });
 * ```
 */
export function jwtBundleSet(bundles: Iterable<JwtBundle>): JwtBundleSource {
  const byName = new Map<string, JwtBundle>();
  for (const bundle of bundles) byName.set(bundle.trustDomain.name, bundle);
  return { bundleFor: (trustDomain) => byName.get(trustDomain) };
}
