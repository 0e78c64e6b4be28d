import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import {
  type AuthorizationDecision,
  type Authorizer,
  identityFromCertificate,
  isMeshlessError,
  type PeerIdentity,
  peerCertificateChain,
  peerChainsTo,
  type TlsMaterial,
  trustedRoots,
  trustedRootsPem,
  verifyPeerTrustDomain,
} from '@meshless/core';

/** What grpc-js's calls offer through `getAuthContext()` (its AuthContext type is not exported). */
export interface AuthContextHolder {
  getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } };
}

/** What the server decided about the peer of a connection (or a call). */
export interface PeerVerdict {
  readonly peer?: PeerIdentity;
  readonly decision?: AuthorizationDecision;
  /** The status to answer with when the call is refused. */
  readonly refusal?: { code: grpc.status; details: string };
}

// A registered symbol rather than a WeakMap: HTTP/2 hands out Proxies of the socket (see
// @meshless/server's peer-state.ts), which forward property reads but are not the same key.
const VERDICT = Symbol.for('meshless.grpcPeerVerdict');

/** A verdict, and the trusted roots it was reached under. */
interface CachedVerdict {
  readonly verdict: PeerVerdict;
  readonly trust: string;
}

type WithVerdict = { [VERDICT]?: CachedVerdict };

/** The verdict cached on a connection, if any. */
export function cachedVerdict(socket: TLSSocket): PeerVerdict | undefined {
  return (socket as unknown as WithVerdict)[VERDICT]?.verdict;
}

/**
 * Decides once per connection: a certificate OpenSSL verified, whose chain anchors in the bundle of
 * the peer's own trust domain, read into a peer identity, then authorized. Cached on the socket: the
 * peer of a connection does not change, and `getPeerCertificate(true)` is costly. When the trusted
 * roots change (a CA rotation, a federated bundle dropped), the connection's peer is checked again on
 * its next call, as OpenSSL would on a new handshake, and refused if it no longer chains to them.
 */
export function connectionVerdict(
  socket: TLSSocket,
  authorize: Authorizer,
  material: TlsMaterial,
): PeerVerdict {
  const holder = socket as unknown as WithVerdict;
  const cached = holder[VERDICT];
  const trust = trustedRootsPem(material);
  if (cached?.trust === trust) return cached.verdict;
  const detailed = socket.authorized ? socket.getPeerCertificate(true) : undefined;
  let verdict: PeerVerdict;
  if (!detailed?.raw) verdict = unauthenticated('no verified client certificate');
  else {
    const chain = peerCertificateChain(detailed);
    // OpenSSL verified the chain against the roots of the handshake; later roots need a check of ours.
    verdict =
      cached && !peerChainsTo(chain.leaf, trustedRoots(material), chain.presented)
        ? unauthenticated('the client certificate no longer chains to a trusted root')
        : decide(chain, authorize, material);
  }
  holder[VERDICT] = { verdict, trust };
  return verdict;
}

/**
 * The same decision from grpc-js's public `getAuthContext()`, for when the socket cannot be reached:
 * it shows the leaf alone, so a federated peer issued by an intermediate passes only if it was
 * verified before on a full chain (fail closed otherwise).
 */
export function callVerdict(
  call: AuthContextHolder,
  authorize: Authorizer,
  material: TlsMaterial,
): PeerVerdict {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  if (!raw) return unauthenticated('no verified client certificate');
  return decide({ leaf: new X509Certificate(raw), presented: [] }, authorize, material);
}

function decide(
  chain: { leaf: X509Certificate; presented: X509Certificate[] },
  authorize: Authorizer,
  material: TlsMaterial,
): PeerVerdict {
  let peer: PeerIdentity;
  try {
    verifyPeerTrustDomain(material, chain.leaf, chain.presented);
    peer = identityFromCertificate(chain.leaf);
  } catch (error) {
    return unauthenticated(
      isMeshlessError(error) ? error.message : 'the client certificate could not be read',
    );
  }
  const decision = authorize(peer);
  if (decision.allowed) return Object.freeze({ peer, decision });
  return Object.freeze({
    peer,
    decision,
    refusal: {
      code: grpc.status.PERMISSION_DENIED,
      details: `peer ${peer.spiffeId ?? `"${peer.subject}"`} is not allowed`,
    },
  });
}

function unauthenticated(details: string): PeerVerdict {
  return Object.freeze({ refusal: { code: grpc.status.UNAUTHENTICATED, details } });
}
