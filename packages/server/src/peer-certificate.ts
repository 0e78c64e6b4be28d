import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { LruCache } from '@meshless/core/internal';

// Why not socket.getPeerX509Certificate(): on Node 20 it leaks native memory on every call for a
// peer that presents intermediates. Its C++ (X509Certificate::GetPeerCert and the X509Certificate
// constructor) copies each intermediate with X509_dup and then removes the original from OpenSSL's
// own peer chain of the session with sk_X509_delete, which does not free it: the X509 the stack
// owned is lost, about 5.5 KiB per handshake that is never given back (and a second call sees the
// leaf alone). getPeerCertificate(true) copies the chain (CloneSSLCerts) without touching OpenSSL's.
// See docs/performance.md ("Memory under connection churn") for the measurements.

/** How deep a presented chain is followed; a real one is two or three certificates. */
const MAX_CHAIN_DEPTH = 10;

// The parsed chains of recent peers, by the fingerprints of the chain: a service sees the same few
// client certificates on most connections, which then parse nothing and allocate no native X509.
const chains = new LruCache<string, X509Certificate>(1024);

/**
 * The verified peer's leaf certificate, read once per connection without the native leak of
 * `getPeerX509Certificate()` on Node 20. Its `issuerCertificate` links are the chain the peer
 * presented (and the root Node found for it), on every call, as trust-change checks and SPIFFE
 * federation need. Objects are shared between connections with the same chain.
 *
 * @example
 * ```ts
 * const leaf = socket.authorized ? readPeerCertificate(socket) : undefined;
 * if (leaf) peerChainsTo(leaf, trustedRoots(material));
 * ```
 */
export function readPeerCertificate(socket: TLSSocket): X509Certificate | undefined {
  const detailed = socket.getPeerCertificate(true) as Partial<DetailedPeerCertificate> | null;
  if (!detailed?.raw) return undefined;
  const links = chainOf(detailed as DetailedPeerCertificate);
  const key = links.map((link) => link.fingerprint256).join('/');
  let leaf = chains.get(key);
  if (!leaf) {
    leaf = linked(links);
    chains.set(key, leaf);
  }
  return leaf;
}

/**
 * Whether the client presented a certificate at all (verified or not), without building the chain.
 *
 * @example
 * ```ts
 * if (!socket.authorized && presentedCertificate(socket)) socket.destroy(); // never downgrade
 * ```
 */
export function presentedCertificate(socket: TLSSocket): boolean {
  return Boolean((socket.getPeerCertificate(false) as Partial<DetailedPeerCertificate> | null)?.raw);
}

// Leaf first, then each issuer once (Node ends a chain at a root whose issuer is itself).
function chainOf(leaf: DetailedPeerCertificate): DetailedPeerCertificate[] {
  const links = [leaf];
  let next = leaf.issuerCertificate;
  while (next?.raw && !links.includes(next) && links.length < MAX_CHAIN_DEPTH) {
    links.push(next);
    next = next.issuerCertificate;
  }
  return links;
}

// Built from the top down, so that each certificate's issuerCertificate is its issuer's object: an
// own property, which shadows the prototype's getter of a parsed X509Certificate (always undefined).
function linked(links: DetailedPeerCertificate[]): X509Certificate {
  let issuer: X509Certificate | undefined;
  for (let i = links.length - 1; i >= 0; i--) {
    const cert = new X509Certificate((links[i] as DetailedPeerCertificate).raw);
    Object.defineProperty(cert, 'issuerCertificate', { value: issuer, enumerable: true });
    issuer = cert;
  }
  return issuer as X509Certificate;
}
