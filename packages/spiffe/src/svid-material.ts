import { loadMaterial, type TlsMaterial } from '@meshless/core';
import { pickSvid, type SvidPick } from './pick.js';
import type { X509Snapshot } from './snapshot.js';

/**
 * The TLS material of the picked SVID of a response: its chain and key, its trust domain's bundle as
 * `ca`, and every federated bundle, validated by `loadMaterial()` like any other material.
 *
 * @throws MeshlessError `ERR_MESHLESS_SVID_WITHDRAWN` when `pick` matches no SVID, or the codes of
 * `loadMaterial()` when the SVID is not valid material.
 * @example
 * ```ts
 * const material = materialOf(readSnapshot(message), { hint: 'internal' });
 * ```
 */
export function materialOf(snapshot: X509Snapshot, pick: SvidPick | undefined): TlsMaterial {
  const svid = pickSvid(snapshot.svids, pick);
  const own = new URL(svid.spiffeId).hostname;
  // The Workload API lists the own trust domain's bundle with the SVID; a copy among the federated
  // bundles would be refused by loadMaterial, so it is left out.
  const federatedBundles = new Map([...snapshot.federatedBundles].filter(([name]) => name !== own));
  return loadMaterial({
    cert: svid.certPem,
    key: svid.keyPem,
    ca: svid.bundlePem,
    federatedBundles,
  });
}
