export type { ApplicationTlsOptions } from './application-tls-options.js';
export {
  applicationTlsOptions,
  CLIENT_TLS_OPTION_KEYS,
  SERVER_TLS_OPTION_KEYS,
  TRUST_BYPASSING_TLS_OPTIONS,
} from './application-tls-options.js';
export type { AuditRecord, AuthorizationDecision, Authorizer } from './authorize.js';
export { authorize } from './authorize.js';
export type { CertificateFacts } from './certificate-facts.js';
export { certificateFacts } from './certificate-facts.js';
export type { VerifiedChain } from './chain.js';
export { verifyChain } from './chain.js';
export type { MeshlessChannelName } from './channels.js';
export { channels } from './channels.js';
export type { MeshlessErrorCode, MeshlessErrorContext } from './errors.js';
export { isMeshlessError, MESHLESS_ERROR_CODES, MeshlessError } from './errors.js';
export type { ExpiryEvent, ExpiryOptions } from './expiry-monitor.js';
export { ExpiryMonitor } from './expiry-monitor.js';
export {
  peerCertificateChain,
  peerChainsTo,
  presentedIssuers,
  trustedRoots,
  trustedRootsPem,
  verifyPeerTrustDomain,
} from './federation.js';
export type { CertificateInput, PeerIdentity } from './identity.js';
export { fingerprintOf, identityFromCertificate } from './identity.js';
export { assertStrongKey } from './key-policy.js';
export { KeyUsageFlags } from './key-usage.js';
export { LruCache } from './lru.js';
export type { MaterialInput, TlsMaterial } from './material.js';
export { loadMaterial, readCertificates } from './material.js';
export { hasPostQuantumKeyExchange, tlsAlertOf } from './node-line.js';
export {
  assertKnownOptions,
  assertOptionsObject,
  describeValue,
  invalidOption,
  optionError,
  refusedOption,
} from './options.js';
export type { Admission } from './peer-admission.js';
export { PeerAdmission } from './peer-admission.js';
export type { PeerVerdict } from './peer-verification.js';
export { assertVerdictCurrent, trustHashOf, verifyPeerCertificate } from './peer-verification.js';
export type { PemBlock, PemInput } from './pem.js';
export { decodePem, MAX_PEM_INPUT_BYTES } from './pem.js';
export { readPrivateKey } from './private-key.js';
export { serverContextOptions } from './server-context.js';
export { assertStrongSignature } from './signature-policy.js';
export type { CertificateSource, CertificateSourceEvents, SourceOptions } from './source.js';
export { CertificateSourceBase, MemorySource, memorySource, staticSource } from './source.js';
export { parseSpiffeId, parseTrustDomain, SpiffeId, spiffeIdFromSegments, TrustDomain } from './spiffe-id.js';
export { assertLeafProfile, signingProblem } from './svid-profile.js';
export { SECURE_CIPHERS, SECURE_ECDH_CURVE, secureTlsDefaults } from './tls-defaults.js';
export type { ValidityClock } from './validity.js';
export { assertCurrentlyValid, DEFAULT_CLOCK_SKEW_MS } from './validity.js';
