import type { CertificateFacts } from './certificate-facts.js';
import { MeshlessError } from './errors.js';

/** How certificate validity windows are judged. */
export interface ValidityClock {
  /** The time to judge against; defaults to now. */
  now?: Date;
  /**
   * Tolerance for a notBefore slightly in the future (a CA whose clock runs ahead), in
   * milliseconds. It does not extend notAfter: an expired certificate is refused. Default 60 000.
   */
  clockSkewMs?: number;
}

/**
 * The default tolerance for a notBefore slightly in the future, in milliseconds (a CA whose clock runs
 * ahead). It never extends notAfter.
 *
 * @example
 * ```ts
 * loadMaterial({ cert, key, ca, clockSkewMs: DEFAULT_CLOCK_SKEW_MS * 5 });
 * ```
 */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

/**
 * Throws `ERR_MESHLESS_CERT_NOT_YET_VALID` or `ERR_MESHLESS_CERT_EXPIRED` for a certificate outside its window.
 *
 * @example
 * ```ts
 * assertCurrentlyValid(leafFacts, 'cert', { clockSkewMs: 30_000 });
 * ```
 */
export function assertCurrentlyValid(cert: CertificateFacts, input: string, clock: ValidityClock = {}): void {
  const now = clock.now ?? new Date();
  const skew = clock.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const context = { input, subject: cert.subject, fingerprint: cert.fingerprint256 };
  const notBefore = cert.notBefore;
  const notAfter = cert.notAfter;
  if (now.getTime() + skew < notBefore.getTime()) {
    throw new MeshlessError(
      'ERR_MESHLESS_CERT_NOT_YET_VALID',
      `${input} certificate "${cert.subject}" is not valid until ${notBefore.toISOString()} (now ${now.toISOString()})`,
      { ...context, expected: notBefore.toISOString(), actual: now.toISOString() },
    );
  }
  if (now.getTime() > notAfter.getTime()) {
    throw new MeshlessError(
      'ERR_MESHLESS_CERT_EXPIRED',
      `${input} certificate "${cert.subject}" expired at ${notAfter.toISOString()} (now ${now.toISOString()})`,
      { ...context, expected: notAfter.toISOString(), actual: now.toISOString() },
    );
  }
}
