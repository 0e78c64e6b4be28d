import type { SecureContextOptions } from 'node:tls';
import { secureTlsDefaults, type TlsMaterial, trustedRootsPem } from '@meshless/core';

/**
 * The full set of secure context options for one material. `server.setSecureContext()` resets every
 * option it is not given, so rotation always passes this whole set, ticket keys included.
 */
export function secureContextOptions(material: TlsMaterial, ticketKeys: Buffer): SecureContextOptions {
  return {
    ...secureTlsDefaults,
    cert: material.certPem,
    key: material.keyPem,
    // With federated bundles, every trust domain's roots: OpenSSL must be able to build any peer's chain.
    // Each peer is then checked against its own trust domain's bundle (verifyPeerTrustDomain).
    ca: trustedRootsPem(material),
    ticketKeys,
  };
}
