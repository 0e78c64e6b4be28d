import type { Socket } from 'node:net';

/** Anything that leads to a connection: a request (HTTP/1.1 or HTTP/2), an HTTP/2 stream or session, a socket. */
export type ConnectionCarrier = object;

/**
 * Finds the socket behind a request, an HTTP/2 stream or session, or returns a socket as is. For
 * HTTP/2 the result is the session's socket Proxy, which forwards property reads to the TLS socket.
 */
export function socketOf(carrier: ConnectionCarrier | null | undefined): Socket | undefined {
  if (!carrier) return undefined;
  const c = carrier as {
    stream?: { session?: { socket?: Socket } };
    session?: { socket?: Socket };
    socket?: Socket;
    encrypted?: boolean;
    remoteAddress?: string;
  };
  // Http2ServerRequest: its stream's session holds the connection.
  if (c.stream?.session?.socket) return c.stream.session.socket;
  // ServerHttp2Stream.
  if (c.session?.socket) return c.session.socket;
  // IncomingMessage, ServerHttp2Session.
  if (c.socket) return c.socket;
  // A socket itself.
  if ('remoteAddress' in c || 'encrypted' in c) return carrier as Socket;
  return undefined;
}
