import { createHash, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { MeshlessError } from './errors.js';
import { identityFromCertificate } from './identity.js';
import { LruCache } from './lru.js';
import type { TlsMaterial } from './material.js';

// Longer chains than this are refused, as in chain.ts.
const MAX_CHAIN_DEPTH = 8;

/** What federated material is parsed into once, and kept as long as the material lives. */
interface Federation {
  /** Every bundle joined, for OpenSSL: the handshake must be able to build the chain of any peer. */
  unionPem: string;
  roots: readonly X509Certificate[];
  rootsByTrustDomain: ReadonlyMap<string, readonly X509Certificate[]>;
  ownTrustDomain: string;
  /** Identifies the set of bundles, so that verdicts survive rotations of the leaf but not of a bundle. */
  hash: string;
}

const federations = new WeakMap<TlsMaterial, Federation>();

// Peers that verified against their own trust domain's bundle, by bundle set and leaf fingerprint. A
// resumed TLS session shows the leaf without its intermediates; the verdict of the full handshake that
// made the session is what lets it through.
const verified = new LruCache<string, true>(4096);

function federationOf(material: TlsMaterial): Federation | undefined {
  const bundles = material.bundles;
  if (!bundles || bundles.size < 2) return undefined;
  let federation = federations.get(material);
  if (federation) return federation;
  const rootsByTrustDomain = new Map<string, readonly X509Certificate[]>();
  const hash = createHash('sha256');
  for (const [name, pem] of bundles) {
    rootsByTrustDomain.set(name, Object.freeze(splitPem(pem).map((block) => new X509Certificate(block))));
    hash.update(name).update('\0').update(pem).update('\0');
  }
  const ownTrustDomain = material.identity.spiffeId?.trustDomain.name ?? '';
  federation = {
    unionPem: [...bundles.values()].join(''),
    roots: Object.freeze([...rootsByTrustDomain.values()].flat()),
    rootsByTrustDomain,
    ownTrustDomain,
    hash: hash.digest('hex'),
  };
  federations.set(material, federation);
  return federation;
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/**
 * The roots to give OpenSSL as `ca`: the own trust bundle, joined with every federated bundle when the
 * material has them. OpenSSL then accepts a chain to any of them, which is why a peer must also pass
 * {@link verifyPeerTrustDomain} after the handshake.
 *
 * @example
 * ```ts
 * const context = tls.createSecureContext({ ...secureTlsDefaults, cert: m.certPem, key: m.keyPem, ca: trustedRootsPem(m) });
 * ```
 */
export function trustedRootsPem(material: TlsMaterial): string {
  return federationOf(material)?.unionPem ?? material.caPem;
}

/**
 * Every root certificate the material trusts, federated ones included.
 *
 * @example
 * ```ts
 * const trusted = new Set(trustedRoots(material).map((root) => root.fingerprint256));
 * ```
 */
export function trustedRoots(material: TlsMaterial): readonly X509Certificate[] {
  return federationOf(material)?.roots ?? material.roots;
}

/**
 * Checks that a peer's chain anchors in the bundle of the peer's own trust domain (the trust domain of
 * its SPIFFE ID; the own trust domain for a peer without one). With federated bundles OpenSSL verifies
 * against their union, so without this check a CA of `b.org` could issue certificates for
 * `spiffe://a.org/...` and be believed. Material without federated bundles trusts one trust domain
 * only, so there is nothing more to check and this returns at once.
 *
 * `peer` is the peer's leaf as a TLS socket gives it (`getPeerX509Certificate()`), whose
 * `issuerCertificate` links are the chain the peer presented, or pass that chain as `presented` (for
 * certificates built from `getPeerCertificate(true)`'s `raw` fields). Note that on a server, only the
 * first `getPeerX509Certificate()` call of a connection returns the links. Each link is verified by
 * signature here, not by name, because root names are often the same across trust domains. Peers that
 * pass are remembered (by leaf and bundle set), so a resumed session, which shows the leaf alone,
 * passes too.
 *
 * @throws MeshlessError `ERR_MESHLESS_PEER_BUNDLE_MISMATCH`
 * @example
 * ```ts
 * server.on('secureConnection', (socket) => {
 *   try {
 *     verifyPeerTrustDomain(source.current(), socket.getPeerX509Certificate()!);
 *   } catch {
 *     socket.destroy();
 *   }
 * });
 * ```
 */
export function verifyPeerTrustDomain(
  material: TlsMaterial,
  peer: X509Certificate,
  presented?: readonly X509Certificate[],
): void {
  const federation = federationOf(material);
  if (!federation) return;
  const key = `${federation.hash}|${peer.fingerprint256}`;
  if (verified.get(key)) return;
  const spiffeId = identityFromCertificate(peer).spiffeId;
  const trustDomain = spiffeId?.trustDomain.name ?? federation.ownTrustDomain;
  const roots = federation.rootsByTrustDomain.get(trustDomain);
  const context = {
    fingerprint: peer.fingerprint256,
    subject: (peer.subject ?? '').replace(/\n/g, ', '),
    trustDomain,
    ...(spiffeId ? { spiffeId: spiffeId.toString() } : {}),
  };
  if (!roots) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
      `peer ${spiffeId ?? `"${context.subject}"`} belongs to trust domain ${trustDomain}, for which there is no trust bundle`,
      { ...context, rule: 'no-bundle' },
    );
  }
  if (!peerChainsTo(peer, roots, presented)) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
      `peer ${spiffeId ?? `"${context.subject}"`} does not chain to the trust bundle of its own trust domain ${trustDomain}`,
      { ...context, rule: 'foreign-issuer' },
    );
  }
  verified.set(key, true);
}

/**
 * Whether a peer's leaf, through the chain it presented (`presented`, else its `issuerCertificate`
 * links), is signed into one of `roots`: each link checked by signature and validity, never by name.
 *
 * @example
 * ```ts
 * const stillTrusted = peerChainsTo(socket.getPeerX509Certificate()!, trustedRoots(next));
 * ```
 */
export function peerChainsTo(
  peer: X509Certificate,
  roots: readonly X509Certificate[],
  presented?: readonly X509Certificate[],
): boolean {
  return anchoredIn(peer, presented ?? presentedIssuers(peer), roots, Date.now(), 0);
}

/**
 * The certificates linked from a peer's leaf by `issuerCertificate`: the chain it presented, and
 * possibly the root Node found in the bundle. On a server only the first `getPeerX509Certificate()`
 * of a connection has the links; a resumed session has none.
 *
 * @example
 * ```ts
 * const leaf = socket.getPeerX509Certificate();
 * if (leaf) verifyPeerCertificate(material, leaf, presentedIssuers(leaf));
 * ```
 */
export function presentedIssuers(leaf: X509Certificate): X509Certificate[] {
  const issuers: X509Certificate[] = [];
  let cert: X509Certificate | undefined = leaf.issuerCertificate;
  while (
    cert &&
    issuers.length < MAX_CHAIN_DEPTH &&
    !issuers.some((c) => c.fingerprint256 === cert!.fingerprint256)
  ) {
    issuers.push(cert);
    cert = cert.issuerCertificate;
  }
  return issuers;
}

function anchoredIn(
  cert: X509Certificate,
  candidates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: number,
  depth: number,
): boolean {
  if (roots.some((root) => validAt(root, now) && signedBy(cert, root))) return true;
  if (depth >= MAX_CHAIN_DEPTH) return false;
  return candidates.some(
    (issuer) =>
      issuer.ca &&
      validAt(issuer, now) &&
      signedBy(cert, issuer) &&
      anchoredIn(
        issuer,
        candidates.filter((c) => c !== issuer),
        roots,
        now,
        depth + 1,
      ),
  );
}

/** Whether `issuer` issued `cert`: by issuer name and by signature. Internal to core. */
export function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function validAt(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/**
 * The leaf and the linked certificates of a `PeerCertificate` from `getPeerCertificate(true)` (what
 * `checkServerIdentity` receives), as `crypto.X509Certificate`s for {@link verifyPeerTrustDomain}.
 * Unlike `getPeerX509Certificate()`, the detailed form keeps its links on every call.
 *
 * @example
 * ```ts
 * checkServerIdentity: (name, cert) => {
 *   const { leaf, presented } = peerCertificateChain(cert);
 *   verifyPeerTrustDomain(material, leaf, presented);
 * }
 * ```
 */
export function peerCertificateChain(cert: PeerCertificate): {
  leaf: X509Certificate;
  presented: X509Certificate[];
} {
  const leaf = new X509Certificate(cert.raw);
  const presented: X509Certificate[] = [];
  const seen = new Set<PeerCertificate>([cert]);
  let next = (cert as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  while (next?.raw && !seen.has(next) && presented.length < MAX_CHAIN_DEPTH) {
    seen.add(next);
    presented.push(new X509Certificate(next.raw));
    next = (next as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return { leaf, presented };
}
