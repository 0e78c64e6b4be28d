import type { ExpiryEvent } from '@meshless/core';
import { LruCache } from '@meshless/core';

/**
 * An `expiring` or `expired` event as the diagnostics channel carries it: with the source's name.
 *
 * @example
 * ```ts
 * registerPrometheusMetrics(register, {
 *   onExpiryWarning: (w: ExpiryWarning) => log.warn({ source: w.source, serial: w.serialNumber }, `${w.role} ${w.state}`),
 * });
 * ```
 */
export interface ExpiryWarning extends ExpiryEvent {
  /** The name of the certificate source that serves the certificate. */
  readonly source: string;
}

// Enough for every certificate a process serves and trusts, many times over; bounded all the same.
const REMEMBERED = 1024;

/**
 * Lets each (certificate, state) through once. Sources re-arm their expiry timers on every rotation
 * and several sources may serve the same root, so the same warning can be raised many times; an
 * operator's logger and counter should hear it once per threshold.
 *
 * @example
 * ```ts
 * const warnings = new ExpiryWarnings();
 * warnings.isNew(event); // true
 * warnings.isNew(event); // false
 * ```
 */
export class ExpiryWarnings {
  readonly #seen = new LruCache<string, true>(REMEMBERED);

  isNew(event: Pick<ExpiryEvent, 'fingerprint256' | 'state'>): boolean {
    const key = `${event.fingerprint256} ${event.state}`;
    if (this.#seen.get(key)) return false;
    this.#seen.set(key, true);
    return true;
  }
}
