import type { X509Certificate } from 'node:crypto';
import type { Http2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import {
  peerChainsTo,
  type TlsMaterial,
  trustedRoots,
  trustedRootsPem,
  verifyPeerTrustDomain,
} from '@meshless/core';
import { connectionStateOf } from './peer-state.js';

// The peer's leaf as read at the end of the handshake (readPeerCertificate), linked to the chain the
// peer presented. A registered symbol, not a WeakMap, because HTTP/2 hands out Proxies of the socket
// (see peer-state.ts).
const PEER_CERT = Symbol.for('meshless.peerCertificate');

/** Keeps the peer's certificate read during the handshake, with its chain, for later trust changes. */
export function rememberPeerCertificate(socket: TLSSocket, cert: X509Certificate): void {
  (socket as unknown as Record<symbol, X509Certificate>)[PEER_CERT] = cert;
}

function peerCertificateOf(socket: TLSSocket): X509Certificate | undefined {
  return (socket as unknown as Record<symbol, X509Certificate | undefined>)[PEER_CERT];
}

/** Whether two materials trust a different set of roots (federated bundles included). */
export function trustChanged(previous: TlsMaterial, next: TlsMaterial): boolean {
  return trustedRootsPem(previous) !== trustedRootsPem(next);
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
  const roots = trustedRoots(material);
  // Checked by signature along the chain the peer presented, computed only when the bundle changes,
  // never on the request path. (Node links a peer's leaf to its presented intermediates, not always to
  // the root, so comparing the last link with the roots would miss peers issued by an intermediate.)
  // A resumed session shows the leaf alone: unless a root signed it directly, it is closed, and the
  // client's next connection makes a full handshake against the new bundle.
  const isUntrusted = (socket: TLSSocket) => {
    if (!connectionStateOf(socket)?.peer) return false;
    const peer = peerCertificateOf(socket);
    if (!peer || !peerChainsTo(peer, roots)) return true;
    try {
      verifyPeerTrustDomain(material, peer);
      return false;
    } catch {
      return true;
    }
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
