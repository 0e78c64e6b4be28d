import type { KeyObject } from 'node:crypto';
import { assertKnownOptions, assertOptionsObject, type SpiffeId } from '@meshless/core';
import { type Issuer, pemOf, serialOf, signCertificate } from './issuer.js';
import { generateKeys, type KeyAlgorithm, keyAlgorithmOption, pkcs8Pem, spkiDer } from './keys.js';
import { DEFAULT_LEAF_TTL_MS, issuedValidity, ttlOption } from './lifetime.js';
import { dnsNamesOption, ipAddressesOption } from './names.js';
import { leafExtensions, leafSubject } from './profile.js';
import { workloadSpiffeId } from './spiffe.js';

/**
 * What {@link CertificateAuthority.issue} makes.
 *
 * @example
 * ```ts
 * const options: IssueOptions = {
 *   spiffeId: 'spiffe://example.org/ns/prod/sa/web',
 *   dnsNames: ['web.prod.svc.cluster.local'],
 *   ipAddresses: ['127.0.0.1', '::1'],
 *   ttl: '12h',
 * };
 * const issued = await ca.issue(options);
 * ```
 */
export interface IssueOptions {
  /** The workload's SPIFFE ID, in the CA's trust domain and with a path. */
  spiffeId: string | SpiffeId;
  /** Extra DNS SANs, such as `web.prod.svc.cluster.local`. */
  dnsNames?: string[];
  /** Extra IP SANs (IPv4 or IPv6), such as `127.0.0.1`. */
  ipAddresses?: string[];
  /** Lifetime: milliseconds or a duration string (`'24h'`). Default 24 hours, cut to the CA's remaining life. */
  ttl?: string | number;
  /** The workload's key algorithm. Default: the CA's own (ECDSA P-256 for a CA made elsewhere). */
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * A certificate signed by the CA, without its private key (see {@link CertificateAuthority.signCsr}).
 *
 * @example
 * ```ts
 * const signed: SignedCertificate = await ca.signCsr(csrPem);
 * writeFileSync('tls.crt', signed.chainPem); // the key never left the workload
 * ```
 */
export interface SignedCertificate {
  /** The leaf certificate alone, as PEM. */
  readonly certPem: string;
  /** The leaf followed by the intermediates up to (not including) the root: what goes in `tls.crt`. */
  readonly chainPem: string;
  /** The trust bundle: the root certificate, as PEM. */
  readonly caPem: string;
  /** The SPIFFE ID in the certificate's URI SAN. */
  readonly spiffeId: string;
  /** Upper-case hex, as `identityFromCertificate()` reports it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * A workload certificate and its freshly generated key (see {@link CertificateAuthority.issue}).
 *
 * @example
 * ```ts
 * const issued: IssuedCertificate = await ca.issue({ spiffeId: 'spiffe://example.org/web' });
 * const material = loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
 * console.log(issued.serialNumber, issued.notAfter.toISOString());
 * ```
 */
export interface IssuedCertificate extends SignedCertificate {
  /** The private key as unencrypted PKCS#8 PEM. */
  readonly keyPem: string;
}

/** The checked form of the per-leaf options shared by `issue` and `signCsr`. */
export interface LeafRequest {
  spiffeId: SpiffeId;
  dnsNames: string[];
  ipAddresses: string[];
  ttlMs: number | undefined;
  publicKey: KeyObject;
}

/** Generates a key and issues an X509-SVID for it. */
export async function issueCertificate(
  issuer: Issuer,
  options: IssueOptions,
  defaultKeyAlgorithm: KeyAlgorithm,
): Promise<IssuedCertificate> {
  assertOptionsObject('issue', options);
  assertKnownOptions('issue', options, ['spiffeId', 'dnsNames', 'ipAddresses', 'ttl', 'keyAlgorithm']);
  const ttlMs = ttlOption(options.ttl);
  const keyAlgorithm = keyAlgorithmOption(options.keyAlgorithm, defaultKeyAlgorithm);
  const dnsNames = dnsNamesOption(options.dnsNames);
  const ipAddresses = ipAddressesOption(options.ipAddresses);
  const spiffeId = workloadSpiffeId(options.spiffeId, issuer.trustDomain);
  issuedValidity(issuer.cert, ttlMs, DEFAULT_LEAF_TTL_MS); // refuse before spending time on a key
  const keys = await generateKeys(keyAlgorithm);
  const signed = await signLeaf(issuer, {
    spiffeId,
    dnsNames,
    ipAddresses,
    ttlMs,
    publicKey: keys.publicKey,
  });
  return Object.freeze({ ...signed, keyPem: pkcs8Pem(keys.privateKey) });
}

/** Signs an X509-SVID for a public key whose request has already been checked. */
export async function signLeaf(issuer: Issuer, request: LeafRequest): Promise<SignedCertificate> {
  const publicKey = spkiDer(request.publicKey);
  const cert = await signCertificate(issuer, {
    subject: leafSubject(request.spiffeId),
    publicKey,
    validity: issuedValidity(issuer.cert, request.ttlMs, DEFAULT_LEAF_TTL_MS),
    extensions: await leafExtensions({
      spiffeId: request.spiffeId,
      dnsNames: request.dnsNames,
      ipAddresses: request.ipAddresses,
      publicKey,
      rsa: request.publicKey.asymmetricKeyType === 'rsa',
      authorityKeyId: issuer.keyId,
    }),
  });
  const certPem = pemOf(cert);
  return Object.freeze({
    certPem,
    chainPem: issuer.isRoot ? certPem : certPem + issuer.chainPem,
    caPem: issuer.rootPem,
    spiffeId: request.spiffeId.toString(),
    serialNumber: serialOf(cert),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  });
}
