import type { CertificateFacts } from './certificate-facts.js';
import { MeshlessError } from './errors.js';
import { KeyUsageFlags } from './key-usage.js';
import { parseSpiffeId } from './spiffe-id.js';

/**
 * Checks a leaf certificate against the X509-SVID profile when it carries a SPIFFE ID: exactly one
 * URI SAN, a SPIFFE ID with a non-root path, CA:false, key usage with digitalSignature and without
 * keyCertSign or cRLSign. A leaf with no SPIFFE URI (an existing DNS/IP PKI) is a valid non-SPIFFE
 * identity, but it still must not be a CA.
 *
 * @throws MeshlessError `ERR_MESHLESS_SVID_INVALID` (with `context.rule`) or `ERR_MESHLESS_LEAF_INVALID`.
 * @example
 * ```ts
 * assertLeafProfile(certificateFacts(block.der, block.pem));
 * ```
 */
export function assertLeafProfile(leaf: CertificateFacts): void {
  const context = { input: 'cert', subject: leaf.subject, fingerprint: leaf.fingerprint256 };
  const spiffeUris = leaf.uris.filter((u) => u.toLowerCase().startsWith('spiffe:'));
  if (spiffeUris.length === 0) {
    if (leaf.isCa === true) {
      throw new MeshlessError(
        'ERR_MESHLESS_LEAF_INVALID',
        `leaf certificate "${leaf.subject}" is a CA (basicConstraints CA:true); a workload certificate must not be`,
        { ...context, rule: 'leaf-is-ca' },
      );
    }
    return;
  }
  const fail = (rule: string, why: string, cause?: unknown) =>
    new MeshlessError(
      'ERR_MESHLESS_SVID_INVALID',
      `leaf certificate "${leaf.subject}" is not a valid X509-SVID: ${why}`,
      { ...context, rule, spiffeId: spiffeUris[0] },
      cause,
    );
  if (leaf.uris.length !== 1)
    throw fail('uri-san-count', `it has ${leaf.uris.length} URI SANs, exactly one is allowed`);
  let id: ReturnType<typeof parseSpiffeId>;
  try {
    id = parseSpiffeId(leaf.uris[0] as string);
  } catch (cause) {
    throw fail('spiffe-id', (cause as Error).message, cause);
  }
  if (id.path === '')
    throw fail('root-path', `its SPIFFE ID ${id} has no path (that is the trust domain's own ID)`);
  if (leaf.isCa === true) throw fail('leaf-is-ca', 'it is a CA (basicConstraints CA:true)');
  if (leaf.keyUsage === undefined)
    throw fail('key-usage-missing', 'it has no key usage extension (digitalSignature is required)');
  if (!(leaf.keyUsage & KeyUsageFlags.digitalSignature))
    throw fail('key-usage-digital-signature', 'its key usage lacks digitalSignature');
  if (leaf.keyUsage & KeyUsageFlags.keyCertSign)
    throw fail('key-usage-key-cert-sign', 'its key usage has keyCertSign, which a leaf must not have');
  if (leaf.keyUsage & KeyUsageFlags.cRLSign)
    throw fail('key-usage-crl-sign', 'its key usage has cRLSign, which a leaf must not have');
}

/**
 * Whether a certificate may sign others: basicConstraints CA:true and, when key usage is present,
 * keyCertSign (RFC 5280; the X509-SVID profile for signing certificates).
 *
 * @returns why it cannot sign, or `undefined` when it can.
 * @example
 * ```ts
 * const problem = signingProblem(rootFacts);
 * if (problem) console.error(`not a trust anchor: ${problem}`);
 * ```
 */
export function signingProblem(cert: CertificateFacts): string | undefined {
  if (cert.isCa !== true) return 'it is not a CA (basicConstraints CA:true is missing)';
  if (cert.keyUsage !== undefined && !(cert.keyUsage & KeyUsageFlags.keyCertSign))
    return 'its key usage lacks keyCertSign';
  return undefined;
}
