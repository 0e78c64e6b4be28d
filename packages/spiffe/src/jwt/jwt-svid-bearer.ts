import { type JwtSvidPeerIdentity, jwtSvidIdentity } from './jwt-svid-identity.js';
import { type ValidateJwtSvidOptions, validateJwtSvid } from './validate-jwt-svid.js';

/**
 * A bearer authenticator for `@meshless/express`'s `mtls({ bearer })` and `@meshless/fastify`'s
 * plugin: validates the token as a JWT-SVID for `audience` against `bundles` and gives its peer
 * identity (`credential: 'jwt-svid'`), or rejects with `ERR_MESHLESS_JWT_SVID_INVALID`.
 *
 * @example
 * ```ts
 * const bundles = await workloadApiJwtBundles();
 * app.use(mtls({
 *   authorize: authorize.memberOf('example.org'),
 *   bearer: jwtSvidBearer({ audience: 'spiffe://example.org/orders', bundles }),
 * }));
 * ```
 */
export function jwtSvidBearer(
  options: ValidateJwtSvidOptions,
): (token: string) => Promise<JwtSvidPeerIdentity> {
  // Checked now, so that a wrong option fails at start-up rather than on the first request.
  if (!options || typeof options.audience !== 'string' || options.audience === '') {
    throw new TypeError('jwtSvidBearer: audience must be a non-empty string');
  }
  if (typeof options.bundles?.bundleFor !== 'function') {
    throw new TypeError('jwtSvidBearer: bundles must be a JwtBundleSource');
  }
  return async (token) => jwtSvidIdentity(await validateJwtSvid(token, options));
}
