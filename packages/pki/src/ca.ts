import { assertKnownOptions, assertOptionsObject, parseTrustDomain, type TrustDomain } from '@meshless/core';
import {
  type IssuedCertificate,
  type IssueOptions,
  issueCertificate,
  type SignedCertificate,
} from './issue.js';
import { type Issuer, pemOf, serialOf, signCertificate } from './issuer.js';
import {
  DEFAULT_KEY_ALGORITHM,
  generateKeys,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  keyAlgorithmOption,
  pkcs8Pem,
  signingKey,
  spkiDer,
} from './keys.js';
import { DEFAULT_CA_TTL_MS, issuedValidity, rootValidity, ttlOption } from './lifetime.js';
import { caExtensions, caSubject, randomSerialNumber } from './profile.js';
import { type CaPaths, saveCaFiles } from './save.js';
import { type SignCsrOptions, signRequest } from './sign-csr.js';
import { loadX509 } from './x509.js';

/**
 * Options of {@link createCa}.
 *
 * @example
 * ```ts
 * const options: CaOptions = { trustDomain: 'example.org', ttl: '90d', keyAlgorithm: 'rsa-3072' };
 * const ca = await createCa(options);
 * ```
 */
export interface CaOptions {
  /** The trust domain the CA signs for, such as `example.org`. */
  trustDomain: string | TrustDomain;
  /** Lifetime: milliseconds or a duration string (`'8760h'`, `'90d'`). Default one year. */
  ttl?: string | number;
  /** Default `'ecdsa-p256'`. */
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * Options of {@link CertificateAuthority.createIntermediate}.
 *
 * @example
 * ```ts
 * const intermediate = await root.createIntermediate({ ttl: '720h', keyAlgorithm: 'ecdsa-p256' });
 * ```
 */
export interface IntermediateOptions {
  /** Lifetime; at most the parent's remaining life. Default one year, cut to the parent's remaining life. */
  ttl?: string | number;
  /** Default: the parent's key algorithm. */
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * A dev/bootstrap certificate authority for one SPIFFE trust domain: a root made by
 * {@link createCa}, an intermediate made by {@link CertificateAuthority.createIntermediate}, or one
 * read back by {@link loadCa}. It issues X509-SVIDs that `loadMaterial()` and OpenSSL accept.
 *
 * The private key is held in a private field: `keyPem` is a getter, and neither `console.log(ca)`
 * nor `JSON.stringify(ca)` shows it.
 *
 * @example
 * ```ts
 * const root = await createCa({ trustDomain: 'example.org' });
 * const ca = await root.createIntermediate({ ttl: '720h' });
 * const issued = await ca.issue({ spiffeId: 'spiffe://example.org/ns/prod/sa/web', dnsNames: ['web'] });
 * const material = loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
 * ```
 */
export interface CertificateAuthority {
  readonly trustDomain: TrustDomain;
  /** The CA key's algorithm: a {@link KeyAlgorithm}, or e.g. `'ecdsa-p384'` for a CA made elsewhere. */
  readonly keyAlgorithm: string;
  /** Whether this is a self-signed root (else an intermediate). */
  readonly isRoot: boolean;
  /** This CA's own certificate, as PEM. */
  readonly certPem: string;
  /** This CA's certificate followed by the intermediates above it, without the root (for a root: the root). */
  readonly chainPem: string;
  /** The trust bundle: the root certificate, as PEM. Give this to every workload. */
  readonly caPem: string;
  /** The CA's private key as unencrypted PKCS#8 PEM. Keep it out of logs and images. */
  readonly keyPem: string;
  readonly subject: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * Generates a key and issues a workload certificate (X509-SVID) for it.
   *
   * @throws MeshlessError `ERR_MESHLESS_SPIFFE_ID_INVALID`, `ERR_MESHLESS_SVID_INVALID` (no path),
   * `ERR_MESHLESS_TRUST_DOMAIN_MISMATCH`, `ERR_MESHLESS_TTL_INVALID` (outlives the CA),
   * `ERR_MESHLESS_CERT_EXPIRED` (the CA has expired); `ERR_MESHLESS_INVALID_OPTION` for bad options (an invalid IP address, an unknown key).
   * @example
   * ```ts
   * const issued = await ca.issue({ spiffeId: 'spiffe://example.org/ns/prod/sa/web', ipAddresses: ['127.0.0.1'], ttl: '1h' });
   * await writeLayout('./certs/web', issued, 'cert-manager');
   * ```
   */
  issue(options: IssueOptions): Promise<IssuedCertificate>;
  /**
   * Makes an intermediate CA signed by this one, in the same trust domain. Its `chainPem` starts with
   * the intermediate; its `caPem` is still the root.
   *
   * @throws MeshlessError `ERR_MESHLESS_TTL_INVALID` when `ttl` outlives this CA.
   * @example
   * ```ts
   * const intermediate = await root.createIntermediate({ ttl: '30d' });
   * intermediate.caPem === root.caPem; // true
   * ```
   */
  createIntermediate(options?: IntermediateOptions): Promise<CertificateAuthority>;
  /**
   * Signs a PKCS#10 CSR (made by {@link createCsr}, OpenSSL or any tool) with the workload profile.
   * The SPIFFE ID comes from the CSR's subjectAltName extension request; DNS and IP names too, unless
   * the options replace them.
   *
   * @throws MeshlessError `ERR_MESHLESS_CSR_INVALID` (garbage, bad signature, not exactly one URI SAN),
   * `ERR_MESHLESS_KEY_WEAK`, and the codes of {@link CertificateAuthority.issue}.
   * @example
   * ```ts
   * const signed = await ca.signCsr(readFileSync('web.csr', 'utf8'), { ttl: '12h' });
   * writeFileSync('web.crt', signed.chainPem);
   * ```
   */
  signCsr(csrPem: string | Uint8Array, options?: SignCsrOptions): Promise<SignedCertificate>;
  /**
   * Writes `ca.crt` (this CA's chain), `ca.key` (mode 0600) and `bundle.crt` (the root) to `dir`,
   * atomically; {@link loadCa} reads them back.
   *
   * @example
   * ```ts
   * await ca.save('./dev-ca'); // { cert: 'dev-ca/ca.crt', key: 'dev-ca/ca.key', bundle: 'dev-ca/bundle.crt' }
   * ```
   */
  save(dir: string): Promise<CaPaths>;
}

class Authority implements CertificateAuthority {
  readonly #issuer: Issuer;
  readonly #keyPem: string;
  readonly keyAlgorithm: string;

  constructor(issuer: Issuer, keyPem: string, keyAlgorithm: string) {
    this.#issuer = issuer;
    this.#keyPem = keyPem;
    this.keyAlgorithm = keyAlgorithm;
  }

  get trustDomain(): TrustDomain {
    return this.#issuer.trustDomain;
  }
  get isRoot(): boolean {
    return this.#issuer.isRoot;
  }
  get certPem(): string {
    return pemOf(this.#issuer.cert);
  }
  get chainPem(): string {
    return this.#issuer.chainPem;
  }
  get caPem(): string {
    return this.#issuer.rootPem;
  }
  get keyPem(): string {
    return this.#keyPem;
  }
  get subject(): string {
    return this.#issuer.cert.subject;
  }
  get serialNumber(): string {
    return serialOf(this.#issuer.cert);
  }
  get notBefore(): Date {
    return this.#issuer.cert.notBefore;
  }
  get notAfter(): Date {
    return this.#issuer.cert.notAfter;
  }

  issue(options: IssueOptions): Promise<IssuedCertificate> {
    return issueCertificate(this.#issuer, options, this.#defaultKeyAlgorithm());
  }

  async createIntermediate(options: IntermediateOptions = {}): Promise<CertificateAuthority> {
    assertOptionsObject('createIntermediate', options);
    assertKnownOptions('createIntermediate', options, ['ttl', 'keyAlgorithm']);
    const ttlMs = ttlOption(options.ttl);
    const keyAlgorithm = keyAlgorithmOption(options.keyAlgorithm, this.#defaultKeyAlgorithm());
    const parent = this.#issuer;
    const validity = issuedValidity(parent.cert, ttlMs, DEFAULT_CA_TTL_MS);
    const keys = await generateKeys(keyAlgorithm);
    const publicKey = spkiDer(keys.publicKey);
    const { extensions, keyId } = await caExtensions(parent.trustDomain, publicKey, parent.keyId);
    const cert = await signCertificate(parent, {
      subject: caSubject(parent.trustDomain, 'intermediate', keyId),
      publicKey,
      validity,
      extensions,
    });
    const issuer: Issuer = {
      cert,
      signingKey: await signingKey(keys.privateKey),
      keyId,
      trustDomain: parent.trustDomain,
      chainPem: pemOf(cert) + (parent.isRoot ? '' : parent.chainPem),
      rootPem: parent.rootPem,
      isRoot: false,
    };
    return new Authority(issuer, pkcs8Pem(keys.privateKey), keyAlgorithm);
  }

  signCsr(csrPem: string | Uint8Array, options?: SignCsrOptions): Promise<SignedCertificate> {
    return signRequest(this.#issuer, csrPem, options);
  }

  save(dir: string): Promise<CaPaths> {
    return saveCaFiles(dir, { chainPem: this.chainPem, keyPem: this.#keyPem, caPem: this.caPem });
  }

  /** Everything but the key. */
  toJSON(): Record<string, unknown> {
    return {
      trustDomain: this.trustDomain.name,
      keyAlgorithm: this.keyAlgorithm,
      isRoot: this.isRoot,
      subject: this.subject,
      serialNumber: this.serialNumber,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
      chainPem: this.chainPem,
      caPem: this.caPem,
    };
  }

  #defaultKeyAlgorithm(): KeyAlgorithm {
    return (KEY_ALGORITHMS as readonly string[]).includes(this.keyAlgorithm)
      ? (this.keyAlgorithm as KeyAlgorithm)
      : DEFAULT_KEY_ALGORITHM;
  }
}

/** Wraps a ready issuer (used by {@link loadCa}). */
export function authorityOf(issuer: Issuer, keyPem: string, keyAlgorithm: string): CertificateAuthority {
  return new Authority(issuer, keyPem, keyAlgorithm);
}

/**
 * Creates a self-signed root CA for a trust domain: subject `O=meshless dev CA, CN=<td> root`,
 * basicConstraints critical CA:true, keyUsage critical keyCertSign, cRLSign and digitalSignature,
 * the trust domain's SPIFFE ID (`spiffe://<td>`) as URI SAN, a random 16-byte serial, notBefore one
 * minute back. Meant for development and bootstrapping, not as a production CA.
 *
 * @throws MeshlessError `ERR_MESHLESS_TRUST_DOMAIN_INVALID`; `ERR_MESHLESS_INVALID_OPTION` for a bad `ttl` or `keyAlgorithm` or an unknown key.
 * @example
 * ```ts
 * const ca = await createCa({ trustDomain: 'example.org', ttl: '8760h', keyAlgorithm: 'ecdsa-p256' });
 * await ca.save('./dev-ca');
 * const issued = await ca.issue({ spiffeId: 'spiffe://example.org/ns/prod/sa/web' });
 * ```
 */
export async function createCa(options: CaOptions): Promise<CertificateAuthority> {
  assertOptionsObject('createCa', options);
  assertKnownOptions('createCa', options, ['trustDomain', 'ttl', 'keyAlgorithm']);
  const x509 = await loadX509();
  const keyAlgorithm = keyAlgorithmOption(options.keyAlgorithm, DEFAULT_KEY_ALGORITHM);
  const ttlMs = ttlOption(options.ttl) ?? DEFAULT_CA_TTL_MS;
  const trustDomain = parseTrustDomain(
    typeof options.trustDomain === 'string' ? options.trustDomain : String(options.trustDomain ?? ''),
  );
  const validity = rootValidity(ttlMs);
  const keys = await generateKeys(keyAlgorithm);
  const key = await signingKey(keys.privateKey);
  const publicKey = spkiDer(keys.publicKey);
  const { extensions, keyId } = await caExtensions(trustDomain, publicKey);
  const name = caSubject(trustDomain, 'root', keyId);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: name,
    issuer: name,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey,
    signingKey: key,
    extensions,
  });
  const pem = pemOf(cert);
  const issuer: Issuer = {
    cert,
    signingKey: key,
    keyId,
    trustDomain,
    chainPem: pem,
    rootPem: pem,
    isRoot: true,
  };
  return new Authority(issuer, pkcs8Pem(keys.privateKey), keyAlgorithm);
}
