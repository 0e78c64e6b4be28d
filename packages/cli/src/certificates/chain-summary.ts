import type { CertificateFacts } from '@meshless/core';
import { issuedBy, roleOf } from './role.js';

/** What a file of certificates is, as a whole. */
export interface ChainSummary {
  /** `certificate`, `chain` (leaf first, then issuers) or `bundle` (trust anchors only). */
  kind: 'certificate' | 'chain' | 'bundle';
  count: number;
  /** For a chain: whether each certificate was issued by the next one. */
  ordered: boolean;
  /** The 1-based positions where certificate n was not issued by certificate n+1. */
  breaks: number[];
}

/**
 * Tells a single certificate, a chain and a bundle of roots apart, and checks a chain's order.
 *
 * @example
 * ```ts
 * summarize(certificates); // { kind: 'chain', count: 2, ordered: true, breaks: [] }
 * ```
 */
export function summarize(certificates: readonly CertificateFacts[]): ChainSummary {
  const count = certificates.length;
  if (count === 1) return { kind: 'certificate', count, ordered: true, breaks: [] };
  const roles = certificates.map(roleOf);
  if (roles.every((role) => role === 'root')) return { kind: 'bundle', count, ordered: true, breaks: [] };
  const breaks: number[] = [];
  for (let i = 0; i + 1 < count; i++) {
    if (!issuedBy(certificates[i] as CertificateFacts, certificates[i + 1] as CertificateFacts))
      breaks.push(i + 1);
  }
  return { kind: 'chain', count, ordered: breaks.length === 0, breaks };
}
