import { MeshlessError, optionError, parseSpiffeId, SpiffeId, type TrustDomain } from '@meshless/core';

/**
 * Reads the SPIFFE ID of a workload certificate and checks it against the CA: a valid ID
 * (`ERR_MESHLESS_SPIFFE_ID_INVALID`), with a path (`ERR_MESHLESS_SVID_INVALID`: the bare trust domain
 * ID names no workload), in the CA's trust domain (`ERR_MESHLESS_TRUST_DOMAIN_MISMATCH`).
 * Without `trustDomain` (a CSR made before any CA is chosen) the last check is skipped.
 */
export function workloadSpiffeId(value: unknown, trustDomain?: TrustDomain): SpiffeId {
  // A SpiffeId, also from another copy of @meshless/core, stands for its canonical string.
  if (
    value instanceof SpiffeId ||
    (typeof value === 'object' && value !== null && 'trustDomain' in value && 'path' in value)
  ) {
    value = String(value);
  }
  if (typeof value !== 'string')
    throw optionError('spiffeId is required: a SPIFFE ID such as spiffe://example.org/ns/prod/sa/web');
  const id = parseSpiffeId(value);
  if (id.path === '') {
    throw new MeshlessError(
      'ERR_MESHLESS_SVID_INVALID',
      `cannot issue an X509-SVID for ${id}: it has no path (that is the trust domain's own ID); use an ID such as ${id}/ns/prod/sa/web`,
      { input: 'spiffeId', spiffeId: id.toString(), rule: 'root-path' },
    );
  }
  if (trustDomain && !id.memberOf(trustDomain)) {
    throw new MeshlessError(
      'ERR_MESHLESS_TRUST_DOMAIN_MISMATCH',
      `cannot issue ${id}: it belongs to trust domain "${id.trustDomain.name}", and this CA signs only for "${trustDomain.name}"`,
      { input: 'spiffeId', spiffeId: id.toString(), expected: trustDomain.name, actual: id.trustDomain.name },
    );
  }
  return id;
}
