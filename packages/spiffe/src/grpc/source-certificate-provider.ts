import type * as grpc from '@grpc/grpc-js';
import type { CertificateSource, TlsMaterial } from '@meshless/core';
import { trustedRootsPem } from '@meshless/core';

type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/**
 * A grpc-js certificate provider fed by a {@link CertificateSource}: the source's certificate and key
 * as the identity, the trust bundle (federated bundles joined) as the CA, updated on each rotation,
 * and `null` for both while the material is withdrawn, so that grpc-js makes no new connection.
 * Listens to the source only while grpc-js listens to it.
 *
 * @example
 * ```ts
 * const provider = new SourceCertificateProvider(source);
 * const credentials = grpc.experimental.createCertificateProviderChannelCredentials(provider, provider);
 * ```
 */
export class SourceCertificateProvider implements grpc.experimental.CertificateProvider {
  readonly #source: CertificateSource;
  readonly #ca = new Set<CaListener>();
  readonly #identity = new Set<IdentityListener>();
  #material: TlsMaterial | undefined;
  readonly #onUpdate = (material: TlsMaterial) => {
    this.#material = material;
    this.#notify();
  };
  readonly #onWithdrawn = () => {
    this.#material = undefined;
    this.#notify();
  };

  constructor(source: CertificateSource) {
    this.#source = source;
  }

  /** The material connections are made with now, or undefined while withdrawn. */
  get material(): TlsMaterial | undefined {
    return this.#listening() ? this.#material : this.#read();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#listen();
    this.#ca.add(listener);
    listener(this.#caUpdate());
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#ca.delete(listener);
    this.#unlistenIfIdle();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#listen();
    this.#identity.add(listener);
    listener(this.#identityUpdate());
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identity.delete(listener);
    this.#unlistenIfIdle();
  }

  #listening(): boolean {
    return this.#ca.size + this.#identity.size > 0;
  }

  #listen(): void {
    if (this.#listening()) return;
    this.#material = this.#read();
    this.#source.on('update', this.#onUpdate);
    this.#source.on('withdrawn', this.#onWithdrawn);
  }

  #unlistenIfIdle(): void {
    if (this.#listening()) return;
    this.#source.off('update', this.#onUpdate);
    this.#source.off('withdrawn', this.#onWithdrawn);
  }

  #read(): TlsMaterial | undefined {
    try {
      return this.#source.current();
    } catch {
      return undefined;
    }
  }

  #caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    return this.#material ? { caCertificate: Buffer.from(trustedRootsPem(this.#material)) } : null;
  }

  #identityUpdate(): grpc.experimental.IdentityCertificateUpdate | null {
    return this.#material
      ? { certificate: Buffer.from(this.#material.certPem), privateKey: Buffer.from(this.#material.keyPem) }
      : null;
  }

  #notify(): void {
    const ca = this.#caUpdate();
    const identity = this.#identityUpdate();
    for (const listener of this.#ca) listener(ca);
    for (const listener of this.#identity) listener(identity);
  }
}
