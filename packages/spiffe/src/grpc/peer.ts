import { identityFromCertificate, type PeerIdentity } from '@meshless/core';
import { socketOfCall } from './call-socket.js';
import { type AuthContextHolder, cachedVerdict } from './peer-verdict.js';

/**
 * The verified client of a call served with {@link grpcServerCredentials}: its SPIFFE ID and the rest
 * of its certificate's identity, as read once for the connection. Undefined without a verified client
 * certificate (which those credentials never let reach a handler).
 *
 * @example
 * ```ts
 * const handlers = {
 *   whoami(call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) {
 *     callback(null, { caller: String(grpcPeerOf(call)?.spiffeId) });
 *   },
 * };
 * ```
 */
export function grpcPeerOf(call: AuthContextHolder): PeerIdentity | undefined {
  const socket = socketOfCall(call);
  const cached = socket ? cachedVerdict(socket) : undefined;
  if (cached) return cached.peer;
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  return raw ? identityFromCertificate(raw) : undefined;
}
