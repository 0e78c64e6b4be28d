import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Authorizer, PeerIdentity } from '@meshless/core';
import { forbidden, type Refusal, unauthenticated } from './answers.js';
import { peerOf, securityOf } from './peer-of.js';
import type { SecurityLabel } from './peer-state.js';

/** Who is asking and what a policy says about it. */
export interface RequestOutcome {
  peer: PeerIdentity | undefined;
  security: SecurityLabel;
  reason: string;
  /** Present when the policy denies the request. */
  refusal?: Refusal;
}

const NO_PEER = 'no verified peer certificate';

/**
 * Applies an authorizer to one request, for route-level policy in framework adapters. Without a
 * verified peer (plaintext or TLS without a client certificate, in permissive mode) the outcome is a
 * 401 whatever the authorizer says: deny by default, even for a hand-written authorizer that would
 * accept `undefined`.
 *
 * @example
 * ```ts
 * const outcome = authorizeRequest(req, authorize.pattern('spiffe://example.org/ns/ops/**'));
 * if (outcome.refusal) refuseResponse(res, outcome.refusal);
 * ```
 */
export function authorizeRequest(
  req: IncomingMessage | Http2ServerRequest,
  authorize: Authorizer,
): RequestOutcome {
  const security = securityOf(req);
  const peer = security === 'mtls' ? peerOf(req) : undefined;
  if (!peer) return { peer, security, reason: NO_PEER, refusal: unauthenticated(NO_PEER) };
  const { allowed, reason } = authorize(peer);
  return allowed ? { peer, security, reason } : { peer, security, reason, refusal: forbidden(reason) };
}
