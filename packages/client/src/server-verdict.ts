import type { PeerCertificate } from 'node:tls';
import {
  assertVerdictCurrent,
  LruCache,
  type PeerVerdict,
  peerCertificateChain,
  type TlsMaterial,
  trustHashOf,
  verifyPeerCertificate,
} from '@meshless/core';

/** As many server chains as core's own identity cache holds. */
const verdicts = new LruCache<string, PeerVerdict>(1024);

/**
 * Holds the server's certificate, on a full handshake after OpenSSL verified its chain, to the
 * rules meshless applies to its own material (core's `verifyPeerCertificate`: the X509-SVID profile,
 * the key policy, the trust domain, validity), and returns the verdict to bind to the session the
 * handshake makes. Kept per trust bundle and presented chain (fingerprints Node already computed),
 * so a server seen before costs a lookup and a clock check.
 *
 * @throws MeshlessError as `verifyPeerCertificate`.
 * @example
 * ```ts
 * checkServerIdentity: (name, cert) => {
 *   const verdict = serverVerdict(material, cert);
 * }
 * ```
 */
export function serverVerdict(material: TlsMaterial, cert: PeerCertificate): PeerVerdict {
  const key = `${trustHashOf(material)}|${chainFingerprints(cert)}`;
  const cached = verdicts.get(key);
  if (cached) {
    assertVerdictCurrent(cached, cert.fingerprint256);
    return cached;
  }
  const { leaf, presented } = peerCertificateChain(cert);
  const verdict = verifyPeerCertificate(material, leaf, presented);
  verdicts.set(key, verdict);
  return verdict;
}

function chainFingerprints(cert: PeerCertificate): string {
  let key = cert.fingerprint256;
  let next = (cert as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  for (let depth = 0; next && next !== cert && depth < 8; depth++) {
    key += `,${next.fingerprint256}`;
    const parent = (next as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
    if (parent === next) break;
    next = parent;
  }
  return key;
}
