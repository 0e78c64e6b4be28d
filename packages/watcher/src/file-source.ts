import { CertificateSourceBase, type MeshlessError, type TlsMaterial } from '@meshless/core';
import type { ResolvedWatchOptions } from './options.js';
import type { Refresher, RefreshHandler } from './refresher.js';
import type { FileSourceStatus } from './status.js';

/**
 * A certificate source over three files, kept current by a directory watch, a debounced re-read and
 * a periodic backstop. Invalid new content never replaces what is served: it is reported as an
 * `error` event and retried with backoff. Created by {@link watchCertificateFiles}.
 *
 * @example
 * ```ts
 * const source = await watchCertificateFiles({ dir: '/var/run/secrets/tls', layout: 'cert-manager' });
 * source.on('update', (material) => log.info({ serial: material.identity.serialNumber }, 'rotated'));
 * source.on('error', (err) => log.warn({ code: err.code, file: err.context.file }, err.message));
 * source.on('expiring', (event) => log.warn(event, 'certificate near expiry and not renewed'));
 * app.get('/healthz/tls', (_req, res) => res.json(source.status()));
 * ```
 */
export class FileCertificateSource extends CertificateSourceBase {
  readonly #refresher: Refresher;
  readonly #options: ResolvedWatchOptions;
  #rotations = 0;
  #lastChangedAt = new Date();
  #lastCheckedAt = new Date();
  #failing = false;
  #lastError: FileSourceStatus['lastError'];

  /** @internal use {@link watchCertificateFiles}, which loads the first material. */
  constructor(initial: TlsMaterial, refresher: Refresher, options: ResolvedWatchOptions) {
    super(initial, {
      name: options.name,
      ...(options.expiringFraction !== undefined ? { expiringFraction: options.expiringFraction } : {}),
    });
    this.#refresher = refresher;
    this.#options = options;
    refresher.handler = this.#handler();
  }

  /**
   * What is served, when it changed, the last problem and the rotation count.
   *
   * @example
   * ```ts
   * source.status().serving.notAfter; // Date
   * ```
   */
  status(): FileSourceStatus {
    const { identity, notAfter } = this.current();
    return Object.freeze({
      serving: Object.freeze({
        serialNumber: identity.serialNumber,
        ...(identity.spiffeId ? { spiffeId: identity.spiffeId.toString() } : {}),
        subject: identity.subject,
        notAfter,
        fingerprint256: identity.fingerprint256,
      }),
      lastChangedAt: this.#lastChangedAt,
      lastCheckedAt: this.#lastCheckedAt,
      failing: this.#failing,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      rotations: this.#rotations,
      files: Object.freeze({ ...this.#options.files }),
      directories: Object.freeze(this.#refresher.directories),
    });
  }

  /**
   * Re-reads the files now, without waiting for an event or the periodic re-read; resolves once the
   * outcome has been applied (`update` or `error` emitted). Handy on SIGHUP.
   *
   * @example
   * ```ts
   * process.on('SIGHUP', () => void source.refresh());
   * ```
   */
  refresh(): Promise<void> {
    return this.#refresher.refresh();
  }

  protected override async onClose(): Promise<void> {
    await this.#refresher.close();
  }

  #handler(): RefreshHandler {
    return {
      loaded: (material) => {
        this.#checked(false);
        // Status first, so `update` listeners that read status() see the new state.
        if (this.closed || material.contentHash === this.current().contentHash) return;
        this.#rotations++;
        this.#lastChangedAt = new Date();
        this.offer(material);
      },
      inSync: () => this.#checked(false),
      failed: (error, firstSeen) => {
        this.#checked(true);
        if (!firstSeen) return;
        this.#record(error);
        this.reject(error);
      },
      watchFailed: (error) => {
        this.#record(error);
        this.#warn(error);
      },
    };
  }

  #checked(failing: boolean): void {
    this.#lastCheckedAt = new Date();
    this.#failing = failing;
  }

  #record(error: MeshlessError): void {
    const file = typeof error.context.file === 'string' ? error.context.file : undefined;
    this.#lastError = Object.freeze({
      code: error.code,
      message: error.message,
      ...(file ? { file } : {}),
      at: new Date(),
    });
  }

  // Not reject(): a broken watch is not refused material, and must not count as a rejected rotation.
  #warn(error: MeshlessError): void {
    if (this.closed) return;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`${this.#options.name}: ${error.message}`, { code: error.code });
  }
}
