import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import {
  type AuthorizationDecision,
  type Authorizer,
  identityFromCertificate,
  isMeshlessError,
  type PeerAdmission,
  type PeerIdentity,
  peerCertificateChain,
  peerChainsTo,
  type TlsMaterial,
  trustedRoots,
  trustedRootsPem,
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
 * Decides once per connection: a certificate OpenSSL verified, admitted by `admission` (the X509-SVID
 * profile, the key policy, the peer's trust domain; on a resumed session the verdict of the full
 * handshake that made it), read into a peer identity, then authorized. Cached on the socket: the
 * peer of a connection does not change, and `getPeerCertificate(true)` is costly. When the trusted
 * roots change (a CA rotation, a federated bundle dropped), the connection's peer is checked again on
 * its next call, as OpenSSL would on a new handshake, and refused if it no longer chains to them.
 */
export function connectionVerdict(
  socket: TLSSocket,
  authorize: Authorizer,
  material: TlsMaterial,
  admission: PeerAdmission,
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
        : decide(chain, authorize, material, admission, socket.isSessionReused());
  }
  holder[VERDICT] = { verdict, trust };
  return verdict;
}

/**
 * The same decision from grpc-js's public `getAuthContext()`, for when the socket cannot be reached:
 * it shows the leaf alone, as a resumed session does, so it is judged as one: a peer issued by an
 * intermediate passes only if this server admitted it before on a full chain (fail closed otherwise).
 */
export function callVerdict(
  call: AuthContextHolder,
  authorize: Authorizer,
  material: TlsMaterial,
  admission: PeerAdmission,
): PeerVerdict {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  if (!raw) return unauthenticated('no verified client certificate');
  return decide({ leaf: new X509Certificate(raw), presented: [] }, authorize, material, admission, true);
}

function decide(
  chain: { leaf: X509Certificate; presented: X509Certificate[] },
  authorize: Authorizer,
  material: TlsMaterial,
  admission: PeerAdmission,
  resumed: boolean,
): PeerVerdict {
  let peer: PeerIdentity;
  try {
    const { refusal } = admission.admit(chain.leaf, resumed, material, chain.presented);
    if (refusal) return unauthenticated(refusal.message);
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
