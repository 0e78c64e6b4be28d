import { createHash, type X509Certificate } from 'node:crypto';
import { type CertificateFacts, certificateFacts } from './certificate-facts.js';
import { verifyChain } from './chain.js';
import { MeshlessError } from './errors.js';
import { identityFromCertificate, type PeerIdentity } from './identity.js';
import { assertStrongKey } from './key-policy.js';
import { assertKnownOptions, assertOptionsObject, invalidOption, optionError } from './options.js';
import { decodePem, describe, type PemInput } from './pem.js';
import { readPrivateKey } from './private-key.js';
import { assertStrongSignature } from './signature-policy.js';
import { parseTrustDomain } from './spiffe-id.js';
import { assertLeafProfile, signingProblem } from './svid-profile.js';
import { assertCurrentlyValid, type ValidityClock } from './validity.js';

/** What {@link loadMaterial} reads: PEM strings or Buffers, LF or CRLF. */
export interface MaterialInput extends ValidityClock {
  /** The leaf certificate first, then any intermediates. */
  cert: PemInput;
  /** The private key of the leaf: PKCS#8, PKCS#1, SEC1, or encrypted PKCS#8 with `passphrase`. */
  key: PemInput;
  /** The trust bundle: one or more root certificates. */
  ca: PemInput;
  passphrase?: string;
  /**
   * Trust bundles of other trust domains this workload federates with, keyed by trust domain
   * (`b.org` or `spiffe://b.org`, as the SPIFFE Workload API keys them), each one or more root
   * certificates as PEM. A peer is then verified against the bundle of its own trust domain, never
   * against the union (see `verifyPeerTrustDomain`). The leaf must have a SPIFFE ID, so that its own
   * trust domain (whose bundle is `ca`) is known.
   */
  federatedBundles?: Readonly<Record<string, PemInput>> | ReadonlyMap<string, PemInput>;
  /** The files the inputs came from, so errors can name them. */
  files?: { cert?: string; key?: string; ca?: string };
}

/** Validated TLS material, ready for `tls.createSecureContext`. Frozen. */
export interface TlsMaterial {
  /** The leaf first, then its intermediates, as PEM. */
  readonly certPem: string;
  /** The private key as unencrypted PKCS#8 PEM (decrypted once, so rotation never needs the passphrase). */
  readonly keyPem: string;
  /** The trust bundle as PEM. */
  readonly caPem: string;
  readonly leaf: X509Certificate;
  readonly intermediates: readonly X509Certificate[];
  readonly roots: readonly X509Certificate[];
  readonly identity: PeerIdentity;
  readonly notAfter: Date;
  /** SHA-256 over the three inputs (and the federated bundles): equal hashes mean equal material. */
  readonly contentHash: string;
  /**
   * Only with federated bundles: every trust bundle by trust domain name, the own trust domain's
   * (`caPem`) included, as PEM. Absent when the material trusts a single trust domain.
   */
  readonly bundles?: ReadonlyMap<string, string>;
}

/**
 * Reads and validates TLS material: PEM syntax, the key matches the leaf, the leaf is valid now,
 * the chain verifies to a root of the bundle through the given intermediates, the X509-SVID rules
 * for SPIFFE leaves, no RSA key under 2048 bits, no SHA-1 or MD5 signatures. Each failure throws a
 * {@link MeshlessError} with its own code and names the input (and file) at fault.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const material = loadMaterial({
 *   cert: readFileSync('/var/run/secrets/tls/tls.crt'),
 *   key: readFileSync('/var/run/secrets/tls/tls.key'),
 *   ca: readFileSync('/var/run/secrets/tls/ca.crt'),
 * });
 * console.log(material.identity.spiffeId?.toString(), material.notAfter);
 * ```
 */
export function loadMaterial(input: MaterialInput): TlsMaterial {
  assertOptionsObject('loadMaterial', input);
  assertKnownOptions('loadMaterial', input, [
    'cert',
    'key',
    'ca',
    'passphrase',
    'federatedBundles',
    'files',
    'now',
    'clockSkewMs',
  ]);
  for (const name of ['cert', 'key', 'ca'] as const) {
    const value = input[name];
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw invalidOption('loadMaterial', name, value, 'a PEM string or Buffer');
    }
  }
  const files = input.files ?? {};
  const chain = readCertificates(input.cert, 'cert', files.cert);
  const bundle = readCertificates(input.ca, 'ca', files.ca);
  const leaf = chain[0] as CertificateFacts;
  const key = readPrivateKey(input.key, { passphrase: input.passphrase, file: files.key });

  assertStrongKey(key, describe('key', files.key), {
    input: 'key',
    ...(files.key ? { file: files.key } : {}),
  });
  if (!leaf.node.checkPrivateKey(key)) {
    throw new MeshlessError(
      'ERR_MESHLESS_KEY_MISMATCH',
      `${describe('key', files.key)} does not belong to the certificate "${leaf.subject}" in ${describe('cert', files.cert)}`,
      {
        input: 'key',
        subject: leaf.subject,
        fingerprint: leaf.fingerprint256,
        ...(files.key ? { file: files.key } : {}),
      },
    );
  }
  assertStrongSignature(leaf, 'leaf');
  assertLeafProfile(leaf);
  assertCurrentlyValid(leaf, 'cert', input);
  for (const root of bundle) assertTrustAnchor(root);
  verifyChain(leaf, chain.slice(1), bundle, input);

  const certPem = chain.map((c) => c.pem).join('');
  const caPem = bundle.map((c) => c.pem).join('');
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  const identity = identityFromCertificate(leaf.node);
  const federated = readFederatedBundles(input.federatedBundles, identity.spiffeId?.trustDomain.name);
  const hash = createHash('sha256').update(certPem).update('\0').update(keyPem).update('\0').update(caPem);
  // Only federated material hashes more, so the hash of single-trust-domain material is unchanged.
  for (const [name, pem] of federated) hash.update('\0').update(name).update('\0').update(pem);
  const ownTrustDomain = identity.spiffeId?.trustDomain.name;
  return Object.freeze({
    certPem,
    keyPem,
    caPem,
    leaf: leaf.node,
    intermediates: Object.freeze(chain.slice(1).map((c) => c.node)),
    roots: Object.freeze(bundle.map((c) => c.node)),
    identity,
    notAfter: identity.notAfter,
    contentHash: hash.digest('hex'),
    ...(federated.size > 0 && ownTrustDomain
      ? { bundles: new Map([[ownTrustDomain, caPem], ...federated]) as ReadonlyMap<string, string> }
      : {}),
  });
}

// Validates federated bundles as `ca` is validated; returns them as canonical PEM by trust domain name,
// sorted so that the same bundles always hash the same.
function readFederatedBundles(
  input: MaterialInput['federatedBundles'],
  ownTrustDomain: string | undefined,
): Map<string, string> {
  const result = new Map<string, string>();
  if (input === undefined) return result;
  if (input === null || typeof input !== 'object') {
    throw optionError(
      'loadMaterial: federatedBundles must be an object or a Map of trust domain to PEM',
      'federatedBundles',
    );
  }
  const entries = input instanceof Map ? [...input.entries()] : Object.entries(input);
  if (entries.length > 0 && !ownTrustDomain) {
    throw new MeshlessError(
      'ERR_MESHLESS_BUNDLE_INVALID',
      'federatedBundles need a leaf with a SPIFFE ID: without one, the own trust domain is unknown',
      { input: 'federatedBundles', rule: 'own-trust-domain-unknown' },
    );
  }
  for (const [key, value] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const name = parseTrustDomain(String(key)).name;
    const where = `federatedBundles[${name}]`;
    if (name === ownTrustDomain || result.has(name)) {
      throw new MeshlessError(
        'ERR_MESHLESS_BUNDLE_INVALID',
        name === ownTrustDomain
          ? `${where} is the own trust domain's bundle: pass it as ca`
          : `${where} is given twice`,
        {
          input: 'federatedBundles',
          rule: name === ownTrustDomain ? 'own-trust-domain' : 'duplicate-trust-domain',
          trustDomain: name,
        },
      );
    }
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw optionError(`loadMaterial: ${where} must be a PEM string or Buffer`, where);
    }
    const roots = readCertificates(value, where, undefined);
    for (const root of roots) assertTrustAnchor(root, where);
    result.set(name, roots.map((c) => c.pem).join(''));
  }
  return result;
}

/**
 * Reads a PEM input in which every block must be a certificate (a chain or a bundle), as
 * {@link loadMaterial} reads its `cert` and `ca` inputs, parsing each into {@link CertificateFacts}.
 *
 * @throws MeshlessError `ERR_MESHLESS_PEM_INVALID` (a block of another kind, or DER that is not
 * X.509) or `ERR_MESHLESS_INPUT_TOO_LARGE`, naming the input and file.
 * @example
 * ```ts
 * const chain = readCertificates(readFileSync('tls.crt'), 'cert', 'tls.crt');
 * chain[0]?.subject; // 'CN=workload'
 * ```
 */
export function readCertificates(
  input: PemInput,
  inputName: string,
  file: string | undefined,
): CertificateFacts[] {
  const where = describe(inputName, file);
  const context = { input: inputName, ...(file ? { file } : {}) };
  const blocks = decodePem(input, inputName, file);
  const wrong = blocks.find((b) => b.label !== 'CERTIFICATE');
  if (wrong) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEM_INVALID',
      `${where} holds a ${wrong.label} block where only CERTIFICATE blocks belong`,
      { ...context, actual: wrong.label },
    );
  }
  return blocks.map((block, index) => {
    try {
      return certificateFacts(block.der, block.pem);
    } catch (cause) {
      throw new MeshlessError(
        'ERR_MESHLESS_PEM_INVALID',
        `certificate ${index + 1} of ${where} is not valid X.509 DER`,
        context,
        cause,
      );
    }
  });
}

function assertTrustAnchor(root: CertificateFacts, input = 'ca'): void {
  const problem = signingProblem(root);
  if (problem) {
    throw new MeshlessError(
      'ERR_MESHLESS_BUNDLE_INVALID',
      `trust bundle certificate "${root.subject}" cannot be a trust anchor: ${problem}`,
      {
        input,
        subject: root.subject,
        fingerprint: root.fingerprint256,
      },
    );
  }
}
