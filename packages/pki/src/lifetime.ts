import { MeshlessError, optionError } from '@meshless/core';
import { parseDuration } from './duration.js';

/** How far notBefore is back-dated, so peers whose clocks run a little behind accept a new certificate. */
export const BACKDATE_MS = 60_000;
/** Default lifetime of a root CA: one year. */
export const DEFAULT_CA_TTL_MS = 365 * 86_400_000;
/** Default lifetime of a workload certificate: 24 hours. */
export const DEFAULT_LEAF_TTL_MS = 86_400_000;

// X.509 times end at 9999-12-31T23:59:59Z (GeneralizedTime).
const LAST_X509_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

/** A validity window. */
export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** The part of an issuing certificate that bounds what it signs. */
export interface IssuerWindow {
  notBefore: Date;
  notAfter: Date;
  subject: string;
}

/** Reads a `ttl` option (milliseconds or a duration string); ERR_MESHLESS_INVALID_OPTION when it is not a duration. */
export function ttlOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw optionError(
      `ttl must be a duration string such as '24h' or a number of milliseconds, got ${typeof value}`,
    );
  }
  return parseDuration(value);
}

/** The window of a self-signed root: back-dated one minute, `ttlMs` long from now. */
export function rootValidity(ttlMs: number, now = Date.now()): Validity {
  if (now + ttlMs > LAST_X509_TIME)
    throw optionError('ttl reaches past the year 9999, the last time X.509 can express');
  return { notBefore: seconds(now - BACKDATE_MS), notAfter: seconds(now + ttlMs) };
}

/**
 * The window of a certificate signed by `issuer`. An explicit `ttlMs` must fit in the issuer's
 * remaining life (`ERR_MESHLESS_TTL_INVALID` otherwise); the default is cut to fit. notBefore is
 * back-dated one minute, but never before the issuer's own notBefore.
 *
 * @throws MeshlessError `ERR_MESHLESS_CERT_EXPIRED` when the issuer has expired,
 * `ERR_MESHLESS_TTL_INVALID` when `ttlMs` outlives it.
 */
export function issuedValidity(
  issuer: IssuerWindow,
  ttlMs: number | undefined,
  defaultTtlMs: number,
  now = Date.now(),
): Validity {
  const issuerEnd = issuer.notAfter.getTime();
  const context = { input: 'ca', subject: issuer.subject };
  if (now >= issuerEnd) {
    throw new MeshlessError(
      'ERR_MESHLESS_CERT_EXPIRED',
      `CA certificate "${issuer.subject}" expired at ${issuer.notAfter.toISOString()}; it can sign nothing`,
      {
        ...context,
        expected: issuer.notAfter.toISOString(),
        actual: new Date(now).toISOString(),
      },
    );
  }
  if (ttlMs !== undefined && now + ttlMs > issuerEnd) {
    const remaining = Math.floor((issuerEnd - now) / 1000);
    throw new MeshlessError(
      'ERR_MESHLESS_TTL_INVALID',
      `ttl of ${Math.floor(ttlMs / 1000)}s outlives CA certificate "${issuer.subject}", which expires at ${issuer.notAfter.toISOString()} (${remaining}s from now); ask for a shorter ttl or rotate the CA`,
      { ...context, input: 'ttl', expected: `<= ${remaining}s`, actual: `${Math.floor(ttlMs / 1000)}s` },
    );
  }
  const notAfter = Math.min(now + (ttlMs ?? defaultTtlMs), issuerEnd);
  const notBefore = Math.max(now - BACKDATE_MS, issuer.notBefore.getTime());
  return { notBefore: seconds(notBefore), notAfter: seconds(notAfter) };
}

// X.509 times have a resolution of one second; dropping the milliseconds up front makes the dates
// this package reports equal to the ones in the certificate.
function seconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
