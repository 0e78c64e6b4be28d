import { TLSSocket } from 'node:tls';

/**
 * The TLS socket a grpc-js server call arrived on. grpc-js exposes no public way to it: its first
 * interceptor receives the base call, which holds the HTTP/2 stream, and handlers' calls hold the
 * intercepting call. Walking those links lets meshless read the peer once per connection instead of
 * calling `getPeerCertificate()` (as `getAuthContext()` does) on every call. Returns undefined when a
 * grpc-js version arranges things differently; callers then fall back to `getAuthContext()`.
 *
 * @example
 * ```ts
 * const socket = socketOfCall(call); // TLSSocket | undefined
 * ```
 */
export function socketOfCall(call: unknown): TLSSocket | undefined {
  let node = call as Record<string, unknown> | undefined;
  for (let depth = 0; node && depth < 8; depth++) {
    const stream = node.stream as { session?: { socket?: unknown } } | undefined;
    const socket = stream?.session?.socket;
    if (socket instanceof TLSSocket) return socket;
    // HTTP/2 hands out a Proxy of the socket, which is not an instance; it forwards property reads.
    if (socket && typeof (socket as TLSSocket).getPeerCertificate === 'function') return socket as TLSSocket;
    node = (node.nextCall ?? node.call) as Record<string, unknown> | undefined;
  }
  return undefined;
}
