import { createHash, type X509Certificate } from 'node:crypto';
import { type CertificateFacts, certificateFacts } from './certificate-facts.js';
import { isMeshlessError, MeshlessError, type MeshlessErrorContext } from './errors.js';
import { signedBy, trustedRoots, trustedRootsPem, verifyPeerTrustDomain } from './federation.js';
import { identityFromCertificate } from './identity.js';
import { assertStrongKey } from './key-policy.js';
import { LruCache } from './lru.js';
import type { TlsMaterial } from './material.js';
import { assertStrongSignature } from './signature-policy.js';
import { parseSpiffeId } from './spiffe-id.js';
import { assertLeafProfile } from './svid-profile.js';

/**
 * What a full handshake proved about a peer: the peer's certificate passed every check against the
 * trust of `trust`, and the whole chain it presented is valid between `notBefore` and `notAfter`.
 * A resumed session shows at most the leaf, so it is admitted on this verdict, re-judged by the clock.
 */
export interface PeerVerdict {
  readonly fingerprint256: string;
  /** {@link trustHashOf} the material the peer was verified against. */
  readonly trust: string;
  /** Milliseconds since the epoch: the latest notBefore and the earliest notAfter of the chain. */
  readonly notBefore: number;
  readonly notAfter: number;
}

const MAX_CHAIN = 8;
const MAX_PRESENTED = 16;
// Verdicts by trust bundle and presented chain: a peer reconnecting with the same chain is judged once.
const verdicts = new LruCache<string, PeerVerdict>(4096);
// Facts (an @peculiar/x509 parse) per certificate: peers reconnect with the same certificate for its
// whole life, so a handshake parses a certificate once, not once per connection.
const factsCache = new LruCache<string, CertificateFacts>(1024);
const trustHashes = new WeakMap<TlsMaterial, string>();

/**
 * A short stable hash of every root a material trusts (federated bundles included): equal hashes mean
 * a peer verified under one material is trusted by the other.
 *
 * @example
 * ```ts
 * if (trustHashOf(previous) !== trustHashOf(next)) closeSessionsOf(previous);
 * ```
 */
export function trustHashOf(material: TlsMaterial): string {
  let hash = trustHashes.get(material);
  if (!hash) {
    hash = createHash('sha256').update(trustedRootsPem(material)).digest('hex').slice(0, 32);
    trustHashes.set(material, hash);
  }
  return hash;
}

/**
 * Holds a peer's certificate to the same rules as the workload's own material, after OpenSSL
 * verified its chain: the X509-SVID profile (one URI SAN, a SPIFFE ID with a path, not a CA,
 * digitalSignature without keyCertSign or cRLSign), strong keys and signatures along the chain, no
 * workload SVID (a SPIFFE ID with a path) acting as an issuer, the peer's trust domain known (the
 * plain `ca` bundle is the own trust domain's; others need a federated bundle), and the chain valid
 * now. Returns the {@link PeerVerdict} to bind to the session the handshake made.
 *
 * `presented` is the chain the peer sent after its leaf (from `issuerCertificate` links or
 * `peerCertificateChain`); it may end with the root Node found in the bundle.
 *
 * @throws MeshlessError `ERR_MESHLESS_SVID_INVALID`, `ERR_MESHLESS_LEAF_INVALID`,
 * `ERR_MESHLESS_KEY_WEAK`, `ERR_MESHLESS_SIGNATURE_WEAK`, `ERR_MESHLESS_PEER_BUNDLE_MISMATCH`,
 * `ERR_MESHLESS_CERT_EXPIRED` or `ERR_MESHLESS_CERT_NOT_YET_VALID`, with `context.input` `'peer'`.
 * @example
 * ```ts
 * server.on('secureConnection', (socket) => {
 *   const leaf = socket.getPeerX509Certificate();
 *   if (leaf) verifyPeerCertificate(source.current(), leaf, chainOf(leaf));
 * });
 * ```
 */
export function verifyPeerCertificate(
  material: TlsMaterial,
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  now = Date.now(),
): PeerVerdict {
  const issuers = distinctIssuers(leaf, presented);
  const trust = trustHashOf(material);
  const key = `${trust}|${leaf.fingerprint256}|${issuers.map((c) => c.fingerprint256).join(',')}`;
  let verdict = verdicts.get(key);
  if (!verdict) {
    verdict = judge(material, leaf, issuers, trust);
    verdicts.set(key, verdict);
  }
  assertVerdictCurrent(verdict, (leaf.subject ?? '').replace(/\n/g, ', '), now);
  return verdict;
}

// The verdict of a leaf and the certificates presented with it, which does not depend on the clock.
function judge(
  material: TlsMaterial,
  leaf: X509Certificate,
  issuers: readonly X509Certificate[],
  trust: string,
): PeerVerdict {
  const facts = factsOf(leaf);
  asPeerError(() => {
    assertPeerUris(facts);
    assertLeafProfile(facts);
    assertStrongSignature(facts, 'peer', 'peer');
    assertStrongKey(leaf.publicKey, `peer certificate "${facts.subject}"`, peerContext(facts));
  });
  // Every certificate the peer sent, whether or not OpenSSL's path went through it: a workload's
  // SVID has no business in a peer's chain, and hiding one behind duplicates must not help.
  for (const issuer of issuers) assertNotWorkload(issuer);
  // The path judged is the one that anchors in the current bundle, rebuilt by signature from all
  // that was presented: not the order the peer sent, and not the bundle OpenSSL had when the
  // handshake began (a rotation may have come in between).
  const path = anchoredPath(leaf, issuers, trustedRoots(material));
  if (!path) {
    throw new MeshlessError(
      'ERR_MESHLESS_CHAIN_UNTRUSTED',
      `peer certificate "${facts.subject}" does not chain to a root of the current trust bundle`,
      { ...peerContext(facts), rule: 'not-anchored' },
    );
  }
  for (const issuer of path.slice(1)) assertStrongIssuer(issuer);
  assertTrustDomainKnown(material, leaf, facts, issuers);
  let notBefore = Number.NEGATIVE_INFINITY;
  let notAfter = Number.POSITIVE_INFINITY;
  for (const cert of path) {
    notBefore = Math.max(notBefore, Date.parse(cert.validFrom));
    notAfter = Math.min(notAfter, Date.parse(cert.validTo));
  }
  return Object.freeze({ fingerprint256: leaf.fingerprint256, trust, notBefore, notAfter });
}

/**
 * Re-judges a verdict by the clock, as a resumed session must be: its certificates may have expired
 * since the full handshake that made the session.
 *
 * @throws MeshlessError `ERR_MESHLESS_CERT_EXPIRED` or `ERR_MESHLESS_CERT_NOT_YET_VALID`.
 * @example
 * ```ts
 * if (socket.isSessionReused()) assertVerdictCurrent(verdicts.get(fingerprint), subject);
 * ```
 */
export function assertVerdictCurrent(verdict: PeerVerdict, subject: string, now = Date.now()): void {
  const context = { input: 'peer', subject, fingerprint: verdict.fingerprint256 };
  if (now > verdict.notAfter) {
    throw new MeshlessError(
      'ERR_MESHLESS_CERT_EXPIRED',
      `peer certificate "${subject}" (or a certificate of its chain) expired at ${new Date(verdict.notAfter).toISOString()}`,
      { ...context, actual: new Date(verdict.notAfter).toISOString() },
    );
  }
  if (now < verdict.notBefore) {
    throw new MeshlessError(
      'ERR_MESHLESS_CERT_NOT_YET_VALID',
      `peer certificate "${subject}" (or a certificate of its chain) is not valid before ${new Date(verdict.notBefore).toISOString()}`,
      { ...context, actual: new Date(verdict.notBefore).toISOString() },
    );
  }
}

function factsOf(cert: X509Certificate): CertificateFacts {
  let facts = factsCache.get(cert.fingerprint256);
  if (!facts) {
    facts = certificateFacts(new Uint8Array(cert.raw), cert.toString());
    factsCache.set(cert.fingerprint256, facts);
  }
  return facts;
}

function peerContext(facts: CertificateFacts): MeshlessErrorContext {
  return { input: 'peer', subject: facts.subject, fingerprint: facts.fingerprint256 };
}

// The profile and policy checks were written for the workload's own files; for a peer, say so.
function asPeerError(check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!isMeshlessError(error)) throw error;
    const message = error.message.replace(/^leaf certificate/, 'peer certificate');
    throw new MeshlessError(error.code, message, { ...error.context, input: 'peer' }, error);
  }
}

// A certificate with a workload's SPIFFE ID (one with a path) among those a peer presented after its
// leaf: a workload certificate wrongly issued with CA:TRUE could otherwise mint any identity of its
// trust domain.
function assertNotWorkload(issuer: X509Certificate): void {
  const facts = factsOf(issuer);
  const workloadId = facts.uris.find((uri) => {
    try {
      return parseSpiffeId(uri).path !== '';
    } catch {
      return false;
    }
  });
  if (workloadId) {
    throw new MeshlessError(
      'ERR_MESHLESS_SVID_INVALID',
      `peer chain holds "${facts.subject}", a workload certificate (${workloadId}); a signing certificate's SPIFFE ID, if any, is its trust domain's, without a path`,
      { ...peerContext(facts), role: 'issuer', rule: 'issuer-is-workload', spiffeId: workloadId },
    );
  }
}

// An issuer on the path to the bundle: its key, and its signature unless it signed itself.
function assertStrongIssuer(issuer: X509Certificate): void {
  const facts = factsOf(issuer);
  const context = { ...peerContext(facts), role: 'issuer' };
  if (issuer.subject !== issuer.issuer) assertStrongSignature(facts, 'peer issuer', 'peer');
  assertStrongKey(issuer.publicKey, `peer issuer certificate "${facts.subject}"`, context);
}

// A peer that carries URI SANs but no SPIFFE ID is neither an SVID nor a plain DNS/IP identity: a
// " spiffe://..." or an https: URI must not slip past the profile that a SPIFFE ID would have to meet.
function assertPeerUris(facts: CertificateFacts): void {
  if (facts.uris.length === 0 || facts.uris.some((uri) => uri.toLowerCase().startsWith('spiffe:'))) return;
  throw new MeshlessError(
    'ERR_MESHLESS_SVID_INVALID',
    `leaf certificate "${facts.subject}" carries URI SANs (${facts.uris.join(', ')}) but no SPIFFE ID`,
    { ...peerContext(facts), rule: 'uri-not-spiffe' },
  );
}

// Leaf excluded, each certificate once; more than a real chain ever has is refused, never cut short.
function distinctIssuers(leaf: X509Certificate, presented: readonly X509Certificate[]): X509Certificate[] {
  const seen = new Set<string>([leaf.fingerprint256]);
  const issuers: X509Certificate[] = [];
  for (const cert of presented) {
    if (seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    issuers.push(cert);
  }
  if (issuers.length > MAX_PRESENTED) {
    throw new MeshlessError(
      'ERR_MESHLESS_CHAIN_UNTRUSTED',
      `peer certificate "${(leaf.subject ?? '').replace(/\n/g, ', ')}" came with ${issuers.length} other certificates; at most ${MAX_PRESENTED} are accepted`,
      { input: 'peer', fingerprint: leaf.fingerprint256, rule: 'chain-too-long' },
    );
  }
  return issuers;
}

// The path from `leaf` to a root of `roots` through `issuers`, by issuer name and signature (never by
// order or by name alone), depth-first and bounded; undefined when there is none.
function anchoredPath(
  leaf: X509Certificate,
  issuers: readonly X509Certificate[],
  roots: readonly X509Certificate[],
): X509Certificate[] | undefined {
  const path = [leaf];
  // A certificate that led nowhere once leads nowhere again: without this, a peer holding a CA key
  // could send certificates that sign each other and make the search exponential.
  const deadEnds = new Set<X509Certificate>();
  const walk = (cert: X509Certificate): boolean => {
    const root = roots.find((candidate) => signedBy(cert, candidate));
    if (root) {
      if (root !== cert) path.push(root);
      return true;
    }
    if (path.length > MAX_CHAIN) return false;
    for (const issuer of issuers) {
      if (path.includes(issuer) || deadEnds.has(issuer) || !issuer.ca || !signedBy(cert, issuer)) continue;
      path.push(issuer);
      if (walk(issuer)) return true;
      path.pop();
      deadEnds.add(issuer);
    }
    return false;
  };
  return walk(leaf) ? path : undefined;
}

// Without federated bundles the one bundle is the own trust domain's (SPIFFE): a peer of another trust
// domain is refused. With them, the peer must chain to its own trust domain's bundle.
function assertTrustDomainKnown(
  material: TlsMaterial,
  leaf: X509Certificate,
  facts: CertificateFacts,
  presented: readonly X509Certificate[],
): void {
  if (material.bundles) {
    verifyPeerTrustDomain(material, leaf, presented);
    return;
  }
  const own = material.identity.spiffeId?.trustDomain.name;
  const peer = identityFromCertificate(leaf).spiffeId;
  if (!own || !peer || peer.trustDomain.name === own) return;
  throw new MeshlessError(
    'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
    `peer ${peer} belongs to trust domain ${peer.trustDomain.name}, for which there is no trust bundle (the ca bundle is ${own}'s; configure federatedBundles to trust another trust domain)`,
    {
      ...peerContext(facts),
      spiffeId: peer.toString(),
      trustDomain: peer.trustDomain.name,
      expected: own,
      rule: 'no-bundle',
    },
  );
}
