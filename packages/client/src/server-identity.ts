import type { PeerCertificate } from 'node:tls';
import { identityFromCertificate, LruCache, type PeerIdentity } from '@meshless/core';

/** As many server certificates as core's own identity cache holds. */
const identities = new LruCache<string, PeerIdentity>(1024);

/**
 * The identity of the server certificate Node hands to `checkServerIdentity` on a full handshake,
 * after OpenSSL verified its chain. Looked up by the `fingerprint256` Node already computed
 * natively for that certificate object (with the rest of the object, on every full handshake), so
 * a server seen before costs one map lookup per connection, where `identityFromCertificate(cert.raw)`
 * would hash the DER again and format the digest in JavaScript each time.
 *
 * The identity itself always comes from core, read from the DER; it is cached only under the
 * fingerprint core computed from that DER, so an entry can never be found under another
 * certificate's fingerprint.
 *
 * @example
 * ```ts
 * tls.connect({ ...options, checkServerIdentity: (name, cert) => check(serverIdentity(cert)) });
 * ```
 */
export function serverIdentity(cert: PeerCertificate): PeerIdentity {
  const fingerprint = cert.fingerprint256;
  const cached = fingerprint ? identities.get(fingerprint) : undefined;
  if (cached) return cached;
  const identity = identityFromCertificate(cert.raw);
  if (identity.fingerprint256 === fingerprint) identities.set(fingerprint, identity);
  return identity;
}
