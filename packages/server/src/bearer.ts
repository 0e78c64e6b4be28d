import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Authorizer, PeerIdentity } from '@meshless/core';
import { forbidden, unauthenticated } from './answers.js';
import { authorizeRequest, type RequestOutcome } from './authorize-request.js';
import { securityOf } from './peer-of.js';

/**
 * Which credential admitted (or was judged for) a request: the verified client certificate
 * (`x509-svid`) or a bearer token (`jwt-svid`).
 *
 * @example
 * ```ts
 * const credential: PeerCredential = req.peer?.credential === 'jwt-svid' ? 'jwt-svid' : 'x509-svid';
 * ```
 */
export type PeerCredential = 'x509-svid' | 'jwt-svid';

/**
 * Turns a bearer token into a verified peer, or rejects. `@meshless/spiffe`'s `jwtSvidBearer()` makes
 * one that validates JWT-SVIDs; the frameworks' middleware only call it.
 *
 * @example
 * ```ts
 * const bearer: BearerAuthenticator = jwtSvidBearer({ audience: 'spiffe://example.org/orders', bundles });
 * ```
 */
export type BearerAuthenticator = (token: string) => Promise<PeerIdentity>;

/** A {@link RequestOutcome} that also says which credential was judged. */
export interface CredentialOutcome extends RequestOutcome {
  credential: PeerCredential;
}

const BEARER = /^Bearer[ \t]+(\S*)[ \t]*$/i;

/**
 * The token of an `Authorization: Bearer …` header; `''` for a Bearer header without a token;
 * undefined without a Bearer header (other schemes are not this function's business).
 *
 * @example
 * ```ts
 * bearerTokenOf(req); // 'eyJhbGciOiJFUzI1NiIs...'
 * ```
 */
export function bearerTokenOf(req: IncomingMessage | Http2ServerRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !/^Bearer\b/i.test(header)) return undefined;
  return BEARER.exec(header)?.[1] ?? '';
}

/**
 * Authorizes a request by its bearer token when it carries one, else by its client certificate. Never
 * a silent fallback: a request with a token is judged by the token alone (a refused token gives 401
 * even when a client certificate was verified), and the outcome names the credential judged.
 *
 * @example
 * ```ts
 * const outcome = await authorizeRequestOrBearer(req, authorize.memberOf('example.org'), bearer);
 * if (outcome.refusal) refuseResponse(res, outcome.refusal);
 * ```
 */
export async function authorizeRequestOrBearer(
  req: IncomingMessage | Http2ServerRequest,
  authorize: Authorizer,
  bearer: BearerAuthenticator,
): Promise<CredentialOutcome> {
  const token = bearerTokenOf(req);
  if (token === undefined) return { ...authorizeRequest(req, authorize), credential: 'x509-svid' };
  const security = securityOf(req);
  let peer: PeerIdentity;
  try {
    if (token === '') throw new Error('the Authorization header has no token');
    peer = await bearer(token);
  } catch (error) {
    const rule = (error as { context?: { rule?: string } }).context?.rule;
    const reason = `bearer token refused${rule ? ` (${rule})` : ''}`;
    return { peer: undefined, security, reason, refusal: unauthenticated(reason), credential: 'jwt-svid' };
  }
  const { allowed, reason } = authorize(peer);
  return allowed
    ? { peer, security, reason, credential: 'jwt-svid' }
    : { peer, security, reason, refusal: forbidden(reason), credential: 'jwt-svid' };
}
