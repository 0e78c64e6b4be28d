// What a cert-manager Certificate must say for meshless to accept what it issues, and for the
// issuer chain to end at a root that the trust bundle distributes.
import { parseSpiffeId } from '@meshless/core';
import { parseDuration } from '@meshless/pki';

// cert-manager's cluster resource namespace (ClusterIssuers' secrets) and trust-manager's trust
// namespace (Bundles' sources): both default to cert-manager.
export const CERT_MANAGER_NAMESPACE = 'cert-manager';
const USAGES = ['digital signature', 'server auth', 'client auth'];
const DEFAULT_DURATION = '2160h'; // cert-manager's default, 90 days

/** Problems of one workload (non-CA) Certificate. */
export function checkWorkloadCertificate(certificate, where) {
  const problems = [];
  const spec = certificate.spec ?? {};
  const uris = spec.uris ?? [];
  if (uris.length !== 1)
    problems.push(`${where}: needs exactly one URI SAN (the SPIFFE ID), has ${uris.length}`);
  else {
    try {
      parseSpiffeId(uris[0]);
    } catch (err) {
      problems.push(`${where}: ${err.message}`);
    }
  }
  const duration = parseDuration(spec.duration ?? DEFAULT_DURATION);
  if (spec.renewBefore !== undefined && !(parseDuration(spec.renewBefore) < duration))
    problems.push(
      `${where}: renewBefore ${spec.renewBefore} must be shorter than duration ${spec.duration ?? DEFAULT_DURATION}`,
    );
  if (spec.privateKey?.algorithm !== 'ECDSA')
    problems.push(
      `${where}: privateKey.algorithm should be ECDSA, not ${spec.privateKey?.algorithm ?? 'unset (RSA)'}`,
    );
  const missing = USAGES.filter((usage) => !(spec.usages ?? []).includes(usage));
  if (missing.length > 0) problems.push(`${where}: usages lack ${missing.join(', ')}`);
  return problems;
}

/**
 * The secret of the CA that signs `certificate` (through a CA ClusterIssuer or Issuer), after
 * checking that the issuer exists; `undefined` with a problem otherwise.
 */
export function issuingCaSecret(certificate, manifests, where, problems) {
  const ref = certificate.spec?.issuerRef ?? {};
  const namespace = manifests.namespaceOf(certificate);
  const issuer =
    ref.kind === 'ClusterIssuer'
      ? manifests.named('ClusterIssuer', ref.name)
      : manifests.named('Issuer', ref.name, namespace);
  if (!issuer) {
    problems.push(
      `${where}: issuerRef names ${ref.kind ?? 'Issuer'} ${ref.name}, which is not in the manifests`,
    );
    return undefined;
  }
  const secretName = issuer.spec?.ca?.secretName;
  if (!secretName) {
    problems.push(`${where}: ${issuer.kind} ${ref.name} is not a CA issuer (spec.ca.secretName)`);
    return undefined;
  }
  const caNamespace = ref.kind === 'ClusterIssuer' ? CERT_MANAGER_NAMESPACE : namespace;
  const root = manifests.certificateWriting(secretName, caNamespace);
  if (!root?.spec?.isCA) {
    problems.push(
      `${where}: ${issuer.kind} ${ref.name} signs with secret ${caNamespace}/${secretName}, which no CA Certificate writes`,
    );
    return undefined;
  }
  return secretName;
}
