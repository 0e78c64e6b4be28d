import type { CertificateFacts } from './certificate-facts.js';
import { MeshlessError } from './errors.js';
import { assertStrongKey } from './key-policy.js';
import { assertStrongSignature } from './signature-policy.js';
import { signingProblem } from './svid-profile.js';
import { assertCurrentlyValid, type ValidityClock } from './validity.js';

const MAX_CHAIN_DEPTH = 8;

/** The verified path from a leaf to a root of the bundle. */
export interface VerifiedChain {
  /** Leaf first, then each issuer, ending with the trust anchor from the bundle. */
  path: CertificateFacts[];
  anchor: CertificateFacts;
}

/**
 * Verifies that `leaf` chains to a root of `bundle` through the `intermediates` given with it, as
 * OpenSSL will during the handshake: each link's issuer name and signature, each issuer a CA with
 * keyCertSign, each link valid now, no weak signatures or keys along the way.
 *
 * @throws MeshlessError `ERR_MESHLESS_CHAIN_UNTRUSTED`, `ERR_MESHLESS_CERT_EXPIRED`,
 * `ERR_MESHLESS_CERT_NOT_YET_VALID`, `ERR_MESHLESS_SIGNATURE_WEAK` or `ERR_MESHLESS_KEY_WEAK`.
 * @example
 * ```ts
 * const [leaf, ...intermediates] = chainFacts; // from certificateFacts()
 * const { anchor } = verifyChain(leaf, intermediates, bundleFacts);
 * anchor.subject; // 'O=meshless dev CA, CN=example.org root'
 * ```
 */
export function verifyChain(
  leaf: CertificateFacts,
  intermediates: CertificateFacts[],
  bundle: CertificateFacts[],
  clock: ValidityClock = {},
): VerifiedChain {
  const path: CertificateFacts[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    const anchor = bundle.find((root) => issued(root, current));
    if (anchor) {
      assertCanSign(anchor, 'ca');
      assertCurrentlyValid(anchor, 'ca', clock);
      assertStrongKey(anchor.node.publicKey, `ca certificate "${anchor.subject}"`, {
        input: 'ca',
        subject: anchor.subject,
      });
      if (isSelfIssued(anchor) || anchor === current) return { path: [...path, anchor], anchor };
      // A non-self-signed CA in the bundle: OpenSSL keeps climbing to a self-signed root.
      path.push(anchor);
      current = anchor;
      continue;
    }
    const next = intermediates.find((candidate) => !path.includes(candidate) && issued(candidate, current));
    if (!next) throw untrusted(leaf, current);
    assertCanSign(next, 'cert');
    assertCurrentlyValid(next, 'cert', clock);
    assertStrongSignature(next, 'intermediate');
    assertStrongKey(next.node.publicKey, `intermediate certificate "${next.subject}"`, {
      input: 'cert',
      subject: next.subject,
    });
    path.push(next);
    current = next;
  }
  throw new MeshlessError(
    'ERR_MESHLESS_CHAIN_UNTRUSTED',
    `the chain of "${leaf.subject}" is longer than ${MAX_CHAIN_DEPTH} certificates`,
    {
      input: 'cert',
      subject: leaf.subject,
      fingerprint: leaf.fingerprint256,
    },
  );
}

function issued(issuer: CertificateFacts, subject: CertificateFacts): boolean {
  return subject.node.checkIssued(issuer.node) && subject.node.verify(issuer.node.publicKey);
}

function isSelfIssued(cert: CertificateFacts): boolean {
  return cert.node.subject === cert.node.issuer && cert.node.verify(cert.node.publicKey);
}

function assertCanSign(cert: CertificateFacts, input: string): void {
  const problem = signingProblem(cert);
  if (problem) {
    throw new MeshlessError(
      input === 'ca' ? 'ERR_MESHLESS_BUNDLE_INVALID' : 'ERR_MESHLESS_CHAIN_UNTRUSTED',
      `issuing certificate "${cert.subject}" cannot sign certificates: ${problem}`,
      { input, subject: cert.subject, fingerprint: cert.fingerprint256, rule: 'signing-certificate' },
    );
  }
}

function untrusted(leaf: CertificateFacts, stuckAt: CertificateFacts): MeshlessError {
  const issuer = (stuckAt.node.issuer ?? '').replace(/\n/g, ', ');
  const where = stuckAt === leaf ? 'the leaf' : `intermediate "${stuckAt.subject}"`;
  return new MeshlessError(
    'ERR_MESHLESS_CHAIN_UNTRUSTED',
    `certificate "${leaf.subject}" does not chain to the trust bundle: nothing in the chain or the bundle issued ${where} (issuer "${issuer}"); an intermediate is missing from the cert file, or it comes from a foreign CA`,
    { input: 'cert', subject: leaf.subject, fingerprint: leaf.fingerprint256, expected: issuer },
  );
}
