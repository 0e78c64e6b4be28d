import type { SecureContextOptions } from 'node:tls';
import type { ApplicationTlsOptions } from './application-tls-options.js';
import { trustedRootsPem } from './federation.js';
import type { TlsMaterial } from './material.js';
import { secureTlsDefaults } from './tls-defaults.js';

/**
 * The full set of secure context options a TLS server needs for one material: the secure defaults,
 * the application's own TLS options (checked once at creation by `applicationTlsOptions`), the
 * chain and key, every trusted root, and the session ticket keys. `setSecureContext()` (called
 * directly or by grpc-js) resets every option it is not given, so rotation always passes this whole
 * set, ticket keys and the application's `crl`, `secureOptions`, ... included.
 *
 * @example
 * ```ts
 * const applicationTls = applicationTlsOptions('createServer', options);
 * source.on('update', (material) => server.setSecureContext(serverContextOptions(material, ticketKeys, applicationTls)));
 * ```
 */
export function serverContextOptions(
  material: TlsMaterial,
  ticketKeys: Buffer,
  applicationTls: Readonly<ApplicationTlsOptions> = {},
): SecureContextOptions {
  return {
    ...secureTlsDefaults,
    // Already checked to be no weaker than the defaults they replace.
    ...applicationTls,
    cert: material.certPem,
    key: material.keyPem,
    // With federated bundles, every trust domain's roots: OpenSSL must be able to build any peer's chain.
    // Each peer is then checked against its own trust domain's bundle (verifyPeerTrustDomain).
    ca: trustedRootsPem(material),
    ticketKeys,
  };
}
