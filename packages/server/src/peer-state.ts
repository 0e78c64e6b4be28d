import type { Socket } from 'node:net';
import type { AuthorizationDecision, PeerIdentity } from '@meshless/core';

/** How a connection is secured: mutual TLS, TLS without a client certificate, or none. */
export type SecurityLabel = 'mtls' | 'tls' | 'plaintext';

/** What meshless learned about one connection, once, at the end of its handshake. */
export interface ConnectionState {
  readonly security: SecurityLabel;
  readonly peer: PeerIdentity | undefined;
  /** The server-level authorizer's decision, made once per connection (identity does not change on it). */
  readonly decision: AuthorizationDecision | undefined;
  /** Milliseconds since the epoch after which the peer's certificate (or a link of its chain) expired. */
  readonly validUntil?: number;
}

// A registered symbol rather than a WeakMap: HTTP/2 hands out Proxies of the socket, which forward
// property reads to it but are not the same key; and two copies of this package share the symbol.
const STATE = Symbol.for('meshless.connectionState');

type Stateful = { [STATE]?: ConnectionState };

export function setConnectionState(socket: Socket, state: ConnectionState): void {
  (socket as Stateful)[STATE] = state;
}

export function connectionStateOf(socket: unknown): ConnectionState | undefined {
  return socket ? (socket as Stateful)[STATE] : undefined;
}
