import type { X509Certificate } from 'node:crypto';
import type { Http2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { TlsMaterial } from '@meshless/core';
import { connectionStateOf } from './peer-state.js';

/** Whether two materials trust a different set of roots. */
export function trustChanged(previous: TlsMaterial, next: TlsMaterial): boolean {
  return previous.caPem !== next.caPem;
}

/**
 * The fingerprint of the root a connection's peer chained to, from the chain OpenSSL verified during
 * the handshake. Computed only when the bundle changes, never on the request path.
 */
function anchorFingerprint(socket: TLSSocket): string | undefined {
  let cert: X509Certificate | undefined = socket.getPeerX509Certificate();
  for (let depth = 0; cert && depth < 10; depth++) {
    const issuer: X509Certificate | undefined = cert.issuerCertificate;
    if (!issuer || issuer.fingerprint256 === cert.fingerprint256) return cert.fingerprint256;
    cert = issuer;
  }
  return cert?.fingerprint256;
}

/**
 * Closes the connections whose peer chains to a root that `material` no longer trusts: idle HTTP/1.1
 * connections at once, busy ones after the response in flight, HTTP/2 sessions gracefully (GOAWAY,
 * in-flight streams finish). Returns how many were closed or marked.
 */
export function closeUntrusted(
  material: TlsMaterial,
  sockets: Iterable<TLSSocket>,
  sessions: Iterable<Http2Session>,
): number {
  const trusted = new Set(material.roots.map((root) => root.fingerprint256));
  const isUntrusted = (socket: TLSSocket) => {
    if (!connectionStateOf(socket)?.peer) return false;
    const anchor = anchorFingerprint(socket);
    return anchor === undefined || !trusted.has(anchor);
  };
  let closed = 0;
  const h2Sockets = new Set<unknown>();
  for (const session of sessions) {
    const socket = session.socket as TLSSocket | undefined;
    if (!socket) continue;
    h2Sockets.add(connectionStateOf(socket));
    if (!session.closed && !session.destroyed && isUntrusted(socket)) {
      session.close();
      closed++;
    }
  }
  for (const socket of sockets) {
    if (socket.destroyed || h2Sockets.has(connectionStateOf(socket)) || !isUntrusted(socket)) continue;
    closeHttp1WhenIdle(socket);
    closed++;
  }
  return closed;
}

// Node's HTTP/1.1 server keeps the response in progress on the socket; none means the connection is idle.
function closeHttp1WhenIdle(socket: TLSSocket): void {
  const response = (
    socket as unknown as {
      _httpMessage?: {
        headersSent: boolean;
        shouldKeepAlive: boolean;
        once: (e: string, f: () => void) => void;
      };
    }
  )._httpMessage;
  if (!response) {
    socket.destroy();
    return;
  }
  if (!response.headersSent) response.shouldKeepAlive = false;
  else response.once('finish', () => socket.destroySoon());
}
