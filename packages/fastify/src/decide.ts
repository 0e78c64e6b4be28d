// The same decision as @meshless/express makes (each adapter keeps its copy so neither depends on the other).
import type { IncomingMessage } from 'node:http';
import type { Authorizer, PeerIdentity } from '@meshless/core';
import { peerOf, type SecurityLabel, securityOf } from '@meshless/server';

/** A refusal as the client sees it: status and the JSON body `{ error, reason }`. */
export interface Refusal {
  status: 401 | 403;
  error: 'peer_unauthenticated' | 'peer_forbidden';
  reason: string;
}

/** Who is asking and what the policy says about it. */
export interface Outcome {
  peer: PeerIdentity | undefined;
  security: SecurityLabel;
  reason: string;
  /** Present when the policy denies the request. */
  refusal?: Refusal;
}

const NO_PEER = 'no verified peer certificate';

/**
 * Applies an authorizer to a request. Without a verified peer the answer is 401 whatever the
 * authorizer says (deny by default, even for a hand-written authorizer that accepts `undefined`).
 */
export function decide(req: IncomingMessage, authorize: Authorizer): Outcome {
  const security = securityOf(req);
  const peer = security === 'mtls' ? peerOf(req) : undefined;
  if (!peer) {
    return {
      peer,
      security,
      reason: NO_PEER,
      refusal: { status: 401, error: 'peer_unauthenticated', reason: NO_PEER },
    };
  }
  const { allowed, reason } = authorize(peer);
  return allowed
    ? { peer, security, reason }
    : { peer, security, reason, refusal: { status: 403, error: 'peer_forbidden', reason } };
}
