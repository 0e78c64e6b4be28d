import { createHash } from 'node:crypto';
import type { PeerIdentity } from '@meshless/core';
import type { JwtSvid } from './jwt-svid.js';

/**
 * A peer identity made from a validated JWT-SVID: what Express's `req.peer` and Fastify's
 * `request.peer` hold when a bearer JWT-SVID admitted the caller. `credential` says so (identities
 * from a certificate have no `credential`), and `jwtSvid` keeps the token's claims.
 */
export interface JwtSvidPeerIdentity extends PeerIdentity {
  readonly credential: 'jwt-svid';
  readonly jwtSvid: JwtSvid;
}

/**
 * A {@link PeerIdentity} from a validated JWT-SVID, so that the same authorizers (`authorize.id()`,
 * `.memberOf()`, `.pattern()`, ...) decide on token callers as on certificate callers. The SPIFFE ID
 * is the only URI; there are no DNS names or IP addresses; `issuer` is the `iss` claim, `serialNumber`
 * the `jti` claim (or `''`), `fingerprint256` the SHA-256 of the token (so logs can name a token
 * without leaking it), `notBefore`/`notAfter` from `nbf` (or `iat`) and `exp`.
 *
 * @example
 * ```ts
 * const svid = await validateJwtSvid(token, { audience: 'spiffe://example.org/orders', bundles });
 * const peer = jwtSvidIdentity(svid);
 * authorize.memberOf('example.org')(peer).allowed; // true
 * ```
 */
export function jwtSvidIdentity(svid: JwtSvid): JwtSvidPeerIdentity {
  const id = svid.spiffeId.toString();
  const { iss, jti, nbf, iat } = svid.claims;
  const start = typeof nbf === 'number' ? nbf : typeof iat === 'number' ? iat : undefined;
  return Object.freeze({
    spiffeId: svid.spiffeId,
    dnsNames: Object.freeze([]),
    ipAddresses: Object.freeze([]),
    uris: Object.freeze([id]),
    subject: id,
    issuer: typeof iss === 'string' ? iss : '',
    serialNumber: typeof jti === 'string' ? jti : '',
    fingerprint256: fingerprint(svid.token),
    notBefore: start === undefined ? new Date(0) : new Date(start * 1000),
    notAfter: svid.expiresAt,
    credential: 'jwt-svid' as const,
    jwtSvid: svid,
  });
}

function fingerprint(token: string): string {
  const hex = createHash('sha256').update(token).digest('hex').toUpperCase();
  return hex.match(/../g)?.join(':') ?? hex;
}
