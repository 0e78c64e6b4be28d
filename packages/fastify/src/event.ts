// The same event as @meshless/express emits, with layer: 'fastify'.
import diagnostics from 'node:diagnostics_channel';
import { channels, type PeerIdentity } from '@meshless/core';
import type { SecurityLabel } from '@meshless/server';

/**
 * One authorization decision of the plugin, for logs (`onDecision`) and for the
 * `meshless:authorization` diagnostics channel.
 *
 * @example
 * ```ts
 * await app.register(meshless, {
 *   authorize: authorize.memberOf('example.org'),
 *   mode: 'audit',
 *   onDecision: (e) => e.decision === 'deny' && log.warn({ peer: e.peer?.spiffeId?.toString(), path: e.path }, e.reason),
 * });
 * ```
 */
export interface AuthorizationEvent {
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
  /** Which layer decided, so a subscriber can tell these events from the server's own. */
  layer: 'fastify';
}

const channel = diagnostics.channel(channels.authorization);

/** Hands an event to the logger hook and, when anyone listens, to the diagnostics channel. */
export function report(
  event: AuthorizationEvent,
  onDecision: ((event: AuthorizationEvent) => void) | undefined,
): void {
  onDecision?.(event);
  if (channel.hasSubscribers) channel.publish(event);
}
