import type { PeerIdentity } from '@meshless/core';
import { connectionStateOf, type SecurityLabel } from './peer-state.js';
import { type ConnectionCarrier, socketOf } from './socket-of.js';

/**
 * The verified peer identity of a request's connection, read once per connection at the end of its
 * handshake (also on HTTP/1.1 keep-alive, HTTP/2 streams and resumed TLS sessions). `undefined` when
 * there is no verified client certificate.
 *
 * @example
 * ```ts
 * const server = createServer({ source, authorize: authorize.any() }, (req, res) => {
 *   res.end(`hello ${peerOf(req)?.spiffeId}`);
 * });
 * ```
 */
export function peerOf(reqOrSocket: ConnectionCarrier | null | undefined): PeerIdentity | undefined {
  return connectionStateOf(socketOf(reqOrSocket))?.peer;
}

/**
 * How a request's connection is secured: `mtls` (verified client certificate), `tls` (encrypted, no
 * client certificate) or `plaintext`.
 *
 * @example
 * ```ts
 * if (securityOf(req) !== 'mtls') log.warn('caller has not migrated to mTLS', req.socket.remoteAddress);
 * ```
 */
export function securityOf(reqOrSocket: ConnectionCarrier | null | undefined): SecurityLabel {
  const socket = socketOf(reqOrSocket);
  const state = connectionStateOf(socket);
  if (state) return state.security;
  return (socket as { encrypted?: boolean } | undefined)?.encrypted ? 'tls' : 'plaintext';
}
