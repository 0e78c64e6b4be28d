import type { X509Certificate } from 'node:crypto';
import type { TlsMaterial } from './material.js';
import { invalidOption } from './options.js';

/** What an `expiring` or `expired` event says. */
export interface ExpiryEvent {
  readonly state: 'expiring' | 'expired';
  /** `leaf` for the served certificate, `root` for a certificate of the trust bundle. */
  readonly role: 'leaf' | 'root';
  readonly subject: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly notAfter: Date;
  /** The SPIFFE ID of the leaf, when it has one. */
  readonly spiffeId?: string;
}

/** When a certificate counts as expiring. */
export interface ExpiryOptions {
  /**
   * Emit `expiring` when less than this fraction of a certificate's lifetime is left. Default 1/3, like
   * cert-manager's renewal point.
   */
  expiringFraction?: number;
}

// setTimeout holds at most a signed 32-bit millisecond delay; longer waits are chained.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Schedules `expiring` and `expired` events for the leaf and each root of one material. Timers are
 * unref'd so they never keep a process alive; `stop()` cancels them when the material is replaced.
 * Sources built on `CertificateSourceBase` use one already; use it directly for material held elsewhere.
 *
 * @example
 * ```ts
 * const monitor = new ExpiryMonitor({ expiringFraction: 1 / 4 });
 * monitor.watch(material, (event) => log.warn(`${event.role} ${event.subject} is ${event.state}`));
 * // later, when the material is replaced or dropped:
 * monitor.stop();
 * ```
 */
export class ExpiryMonitor {
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #fraction: number;

  constructor(options: ExpiryOptions = {}) {
    const fraction = options.expiringFraction ?? 1 / 3;
    if (!(fraction > 0 && fraction < 1)) {
      throw invalidOption('ExpiryMonitor', 'expiringFraction', fraction, 'a number between 0 and 1');
    }
    this.#fraction = fraction;
  }

  watch(material: TlsMaterial, emit: (event: ExpiryEvent) => void): void {
    this.stop();
    const spiffeId = material.identity.spiffeId?.toString();
    this.#watchOne(material.leaf, 'leaf', spiffeId, emit);
    for (const root of material.roots) this.#watchOne(root, 'root', undefined, emit);
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #watchOne(
    cert: X509Certificate,
    role: 'leaf' | 'root',
    spiffeId: string | undefined,
    emit: (event: ExpiryEvent) => void,
  ): void {
    const notBefore = new Date(cert.validFrom).getTime();
    const notAfter = new Date(cert.validTo).getTime();
    const expiringAt = notAfter - (notAfter - notBefore) * this.#fraction;
    const base = {
      role,
      subject: (cert.subject ?? '').replace(/\n/g, ', '),
      serialNumber: cert.serialNumber.toUpperCase(),
      fingerprint256: cert.fingerprint256,
      notAfter: new Date(notAfter),
      ...(spiffeId ? { spiffeId } : {}),
    };
    const now = Date.now();
    // Once per threshold: an already expired certificate gets only `expired`.
    if (now < notAfter) this.#at(expiringAt, () => emit(Object.freeze({ ...base, state: 'expiring' })));
    // notAfter is the last valid millisecond: the certificate has expired one millisecond later.
    this.#at(notAfter + 1, () => emit(Object.freeze({ ...base, state: 'expired' })));
  }

  #at(when: number, fire: () => void): void {
    const delay = when - Date.now();
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (delay > MAX_TIMER_MS) this.#at(when, fire);
        else fire();
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    timer.unref();
    this.#timers.add(timer);
  }
}
