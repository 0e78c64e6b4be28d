import { MeshlessError, optionError, parseSpiffeId } from '@meshless/core';

/**
 * Whether and how metrics carry the peer's identity as a label. Every distinct label value is a
 * time series kept forever by Prometheus, so identities only become labels from a bounded set:
 * `none` (no `peer` label, the default), `trust-domain` (the peer's SPIFFE trust domain), or an
 * allow-list of SPIFFE IDs (any other peer is `other`).
 *
 * @example
 * ```ts
 * registerPrometheusMetrics(registry, { peerLabel: { allow: ['spiffe://example.org/ns/prod/sa/web'] } });
 * registerPrometheusMetrics(registry, { peerLabel: 'trust-domain' });
 * ```
 */
export type PeerLabelPolicy = 'none' | 'trust-domain' | { readonly allow: readonly string[] };

/**
 * Maps a message's `peer` to its label value: `''` when there is no verified peer.
 *
 * @example
 * ```ts
 * const label: PeerLabeler | undefined = peerLabeler({ allow: [ORDERS] }, 'example');
 * ```
 */
export type PeerLabeler = (peer: unknown) => string;

/**
 * The labeler for a policy, or `undefined` for `none` (the metrics then have no `peer` label at all).
 * Throws `ERR_MESHLESS_INVALID_OPTION` for a policy it does not understand or an allow-list entry that is not a
 * SPIFFE ID, so a typo fails at startup rather than silently labelling everything `other`.
 *
 * @example
 * ```ts
 * const label = peerLabeler('trust-domain');
 * label?.(peerOf(req)); // 'example.org'
 * ```
 */
export function peerLabeler(policy: PeerLabelPolicy | undefined, where: string): PeerLabeler | undefined {
  if (policy === undefined || policy === 'none') return undefined;
  if (policy === 'trust-domain') return (peer) => trustDomainOf(spiffeIdOf(peer), peer);
  if (typeof policy === 'object' && policy !== null && Array.isArray(policy.allow)) {
    const allowed = new Set(policy.allow.map((id) => canonicalId(id, where)));
    return (peer) => {
      const id = spiffeIdOf(peer);
      if (id === undefined) return peer ? 'other' : '';
      return allowed.has(id) ? id : 'other';
    };
  }
  throw optionError(`${where}: peerLabel must be 'none', 'trust-domain' or { allow: [SPIFFE IDs] }`);
}

function canonicalId(id: unknown, where: string): string {
  try {
    return parseSpiffeId(String(id)).toString();
  } catch (cause) {
    throw new MeshlessError(
      'ERR_MESHLESS_INVALID_OPTION',
      `${where}: peerLabel.allow holds ${JSON.stringify(id)}, which is not a SPIFFE ID`,
      { input: 'peerLabel.allow' },
      cause,
    );
  }
}

// The peer may come from another copy of @meshless/core, so it is read through String(), not instanceof.
function spiffeIdOf(peer: unknown): string | undefined {
  const id = (peer as { spiffeId?: unknown } | null | undefined)?.spiffeId;
  return id === undefined || id === null ? undefined : String(id);
}

function trustDomainOf(id: string | undefined, peer: unknown): string {
  if (id === undefined) return peer ? 'other' : '';
  const match = /^spiffe:\/\/([^/]+)/.exec(id);
  return match?.[1] ?? 'other';
}
