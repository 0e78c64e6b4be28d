import diagnostics from 'node:diagnostics_channel';
import { channels, type PeerIdentity } from '@meshless/core';
import type { SecurityLabel } from './peer-state.js';

/**
 * One route-level authorization decision of a framework adapter, for its logger hook (`onDecision`)
 * and for the `meshless:authorization` diagnostics channel.
 *
 * @example
 * ```ts
 * app.use(mtls({
 *   authorize: authorize.memberOf('example.org'),
 *   mode: 'audit',
 *   onDecision: (e) => e.decision === 'deny' && log.warn({ peer: e.peer?.spiffeId?.toString(), path: e.path }, e.reason),
 * }));
 * ```
 */
export interface AuthorizationEvent<Layer extends string = string> {
  /** What the authorizer decided. In audit mode a `deny` is recorded but the request goes on. */
  decision: 'allow' | 'deny';
  /** Whether a `deny` was answered (enforce mode) or only recorded (audit mode). */
  enforced: boolean;
  /** The authorizer's reason, or why there is no verified peer. */
  reason: string;
  /** The refusal a `deny` gives (or, in audit mode, would give). */
  error?: 'peer_unauthenticated' | 'peer_forbidden';
  /** The verified peer, when there is one. */
  peer?: PeerIdentity;
  /** How the connection is secured: `mtls`, `tls` (no client certificate) or `plaintext`. */
  security: SecurityLabel;
  method: string;
  /** The request path, without the query string (which may hold secrets). */
  path: string;
  /** Which layer decided (`express`, `fastify`), so subscribers can tell these from the server's own events. */
  layer: Layer;
  /** The credential judged, when bearer JWT-SVIDs are enabled: `x509-svid` or `jwt-svid`. */
  credential?: 'x509-svid' | 'jwt-svid';
}

const channel = diagnostics.channel(channels.authorization);

/**
 * Hands a decision to the logger hook and, when anyone listens, to the diagnostics channel.
 *
 * @example
 * ```ts
 * reportDecision({ decision: 'deny', enforced: false, reason, security, method, path, layer: 'express' }, onDecision);
 * ```
 */
export function reportDecision<Layer extends string>(
  event: AuthorizationEvent<Layer>,
  onDecision: ((event: AuthorizationEvent<Layer>) => void) | undefined,
): void {
  onDecision?.(event);
  if (channel.hasSubscribers) channel.publish(event);
}
