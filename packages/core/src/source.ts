import diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { channels } from './channels.js';
import type { MeshlessError } from './errors.js';
import { type ExpiryEvent, ExpiryMonitor, type ExpiryOptions } from './expiry-monitor.js';
import type { TlsMaterial } from './material.js';

/** The events of a {@link CertificateSource} and their arguments. */
export interface CertificateSourceEvents {
  /**
   * New, valid, different material is now current; or, after `withdrawn`, material may be used again
   * (then possibly the same material as before).
   */
  update: [material: TlsMaterial, previous: TlsMaterial];
  /** New material was offered and refused; the previous material stays current. */
  error: [error: MeshlessError];
  expiring: [event: ExpiryEvent];
  expired: [event: ExpiryEvent];
  /**
   * The issuer withdrew the current material (the SPIFFE Workload API redacted the SVID, or denied
   * the workload): it must no longer be used. `current()` throws `error` until the next `update`.
   * Servers refuse new connections meanwhile; clients cannot make new ones.
   */
  withdrawn: [error: MeshlessError];
}

/**
 * Where TLS material comes from and how it changes. Everything that rotates goes through it; the
 * server and client know nothing else about where certificates come from.
 *
 * @example
 * ```ts
 * const source: CertificateSource = await watchCertificateFiles({ dir: '/etc/tls', layout: 'cert-manager' });
 * source.on('update', (material) => log.info('rotated to', material.identity.serialNumber));
 * source.on('error', (err) => log.warn(err.code, err.message));
 * ```
 */
export interface CertificateSource {
  /**
   * The material to use now: always valid when it was loaded. Throws a `MeshlessError` while the
   * material is withdrawn (see the `withdrawn` event): failing closed, never handing out an identity
   * its issuer took back.
   */
  current(): TlsMaterial;
  on<E extends keyof CertificateSourceEvents>(
    event: E,
    listener: (...args: CertificateSourceEvents[E]) => void,
  ): this;
  once<E extends keyof CertificateSourceEvents>(
    event: E,
    listener: (...args: CertificateSourceEvents[E]) => void,
  ): this;
  off<E extends keyof CertificateSourceEvents>(
    event: E,
    listener: (...args: CertificateSourceEvents[E]) => void,
  ): this;
  /** Stops watching and releases every handle. */
  close(): Promise<void>;
}

/** Options common to every source. */
export interface SourceOptions extends ExpiryOptions {
  /** A name for diagnostics and logs, such as the directory watched. */
  name?: string;
}

/**
 * The shared machinery of certificate sources: the current material, `update` only on a real change
 * (content hash), `error` for refused material without losing the current one, expiry events, and
 * diagnostics channel messages. Sources that read files or the Workload API extend it.
 *
 * @example
 * ```ts
 * class VaultSource extends CertificateSourceBase {
 *   async refresh() {
 *     try { this.offer(loadMaterial(await fetchFromVault())); }
 *     catch (err) { this.reject(err as MeshlessError); }
 *   }
 * }
 * ```
 */
export class CertificateSourceBase extends EventEmitter implements CertificateSource {
  #material: TlsMaterial;
  readonly #monitor: ExpiryMonitor;
  readonly #name: string;
  #closed = false;
  #withdrawal: MeshlessError | undefined;

  constructor(initial: TlsMaterial, options: SourceOptions = {}) {
    super();
    this.#material = initial;
    this.#name = options.name ?? this.constructor.name;
    this.#monitor = new ExpiryMonitor(options);
    this.#monitor.watch(initial, (event) => this.#onExpiry(event));
  }

  current(): TlsMaterial {
    if (this.#withdrawal) throw this.#withdrawal;
    return this.#material;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the material is withdrawn, or undefined while it may be used. */
  get withdrawal(): MeshlessError | undefined {
    return this.#withdrawal;
  }

  /**
   * Makes `material` current when it differs from what is served, or when the material was withdrawn
   * (even the same material: its issuer gave it back); returns whether it did.
   */
  protected offer(material: TlsMaterial): boolean {
    if (this.#closed) return false;
    if (!this.#withdrawal && material.contentHash === this.#material.contentHash) return false;
    this.#withdrawal = undefined;
    const previous = this.#material;
    this.#material = material;
    this.#monitor.watch(material, (event) => this.#onExpiry(event));
    publish(channels.rotation, { result: 'applied', source: this.#name, material, previous });
    this.emit('update', material, previous);
    return true;
  }

  /** Reports refused material; the current material stays. */
  protected reject(error: MeshlessError): void {
    if (this.#closed) return;
    publish(channels.rotation, { result: 'rejected', source: this.#name, error });
    // An EventEmitter throws on an unheard 'error'; a refused update must never crash a service.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`${this.#name}: ${error.message}`, { code: error.code });
  }

  /**
   * Takes the current material out of use: `current()` throws `error` until the next `offer()`, and
   * `withdrawn` is emitted (then `error`, so that logs see it). Expiry events continue, since the
   * material is still the last one held.
   */
  protected withdraw(error: MeshlessError): void {
    if (this.#closed || this.#withdrawal) return;
    this.#withdrawal = error;
    this.emit('withdrawn', error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`${this.#name}: ${error.message}`, { code: error.code });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#monitor.stop();
    await this.onClose();
  }

  /** Releases what a subclass holds; called once by `close()`. */
  protected async onClose(): Promise<void> {}

  #onExpiry(event: ExpiryEvent): void {
    if (this.#closed) return;
    publish(channels.expiry, { ...event, source: this.#name });
    this.emit(event.state, event);
  }
}

function publish(name: string, message: object): void {
  const channel = diagnostics.channel(name);
  if (channel.hasSubscribers) channel.publish(message);
}

/**
 * A source that always serves the same material (it still raises `expiring` and `expired`).
 *
 * @example
 * ```ts
 * const source = staticSource(loadMaterial({ cert, key, ca }));
 * const server = createServer({ source, authorize: authorize.any() }, app);
 * ```
 */
export function staticSource(material: TlsMaterial, options: SourceOptions = {}): CertificateSource {
  return new CertificateSourceBase(material, { name: 'static', ...options });
}

/**
 * A source held in memory whose material can be replaced by code: for tests, and for issuers that
 * hand over certificates directly (such as @meshless/pki).
 *
 * @example
 * ```ts
 * const source = memorySource(loadMaterial(first));
 * source.set(loadMaterial(second)); // emits 'update'
 * ```
 */
export class MemorySource extends CertificateSourceBase {
  /** Replaces the material; emits `update` when it differs. Returns whether it did. */
  set(material: TlsMaterial): boolean {
    return this.offer(material);
  }

  /** Reports a failed replacement as an `error` event, keeping the current material. */
  fail(error: MeshlessError): void {
    this.reject(error);
  }

  /** Takes the material out of use (`current()` throws `error`) until the next `set()`. */
  override withdraw(error: MeshlessError): void {
    super.withdraw(error);
  }
}

/**
 * Creates a {@link MemorySource}.
 *
 * @example
 * ```ts
 * const source = memorySource(loadMaterial({ cert, key, ca }));
 * ```
 */
export function memorySource(material: TlsMaterial, options: SourceOptions = {}): MemorySource {
  return new MemorySource(material, { name: 'memory', ...options });
}
