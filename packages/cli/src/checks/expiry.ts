import type { CertificateFacts } from '@meshless/core';
import { formatDuration } from '../format/duration.js';
import type { Check } from './check.js';

const TITLE = 'no certificate is close to expiry';

/** Certificates to judge, each named by its role. */
export interface NamedCertificate {
  name: string;
  cert: CertificateFacts;
}

/**
 * Judges how close each certificate is to its notAfter. The threshold is `warnWithinMs` when
 * given, else a third of each certificate's own lifetime: cert-manager renews at two thirds, so a
 * certificate with less than a third left has missed its renewal. Expired certificates are left
 * to the validity and chain checks, which fail them already.
 *
 * @example
 * ```ts
 * checkExpiry([{ name: 'leaf', cert: leafFacts }], { warnWithinMs: 3_600_000 });
 * ```
 */
export function checkExpiry(
  certificates: readonly NamedCertificate[],
  options: { warnWithinMs?: number; now?: Date } = {},
): Check {
  const now = options.now ?? new Date();
  const soon: string[] = [];
  const fine: string[] = [];
  for (const { name, cert } of certificates) {
    const notBefore = cert.notBefore.getTime();
    const notAfter = cert.notAfter.getTime();
    const left = notAfter - now.getTime();
    if (left <= 0) continue;
    const lifetime = notAfter - notBefore;
    const threshold = options.warnWithinMs ?? lifetime / 3;
    const why =
      options.warnWithinMs === undefined
        ? `a third of its ${formatDuration(lifetime)} lifetime`
        : `--warn-within ${formatDuration(threshold)}`;
    if (left < threshold)
      soon.push(
        `${name} "${cert.subject}" expires in ${formatDuration(left)} (threshold ${formatDuration(threshold)}: ${why})`,
      );
    else fine.push(`${name} in ${formatDuration(left)}`);
  }
  if (soon.length > 0) {
    return {
      id: 'expiry',
      title: TITLE,
      outcome: 'fail',
      code: 'ERR_MESHLESS_CERT_EXPIRING',
      detail: soon.join('; '),
    };
  }
  return {
    id: 'expiry',
    title: TITLE,
    outcome: 'pass',
    ...(fine.length > 0 ? { detail: fine.join(', ') } : {}),
  };
}
