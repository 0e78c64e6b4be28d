import { type CertificateFacts, identityFromCertificate } from '@meshless/core';
import { expiryPhrase } from '../format/duration.js';
import { describeKey, type KeyDescription } from '../format/key.js';
import { extendedKeyUsageName, keyUsageNames } from '../format/key-usage.js';
import { type CertificateRole, roleOf } from './role.js';
import { signatureName } from './signature-name.js';
import { type SvidConformance, svidConformance } from './svid-conformance.js';

/** Everything `meshless inspect` shows about one certificate; also its `--json` shape. */
export interface CertificateView {
  role: CertificateRole;
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint256: string;
  spiffeId: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  notBefore: Date;
  notAfter: Date;
  /** `expires in 3h12m`, `expired 2d ago` or `not valid for another 5m`. */
  validity: string;
  /** Whether the certificate is within its validity window now. */
  valid: boolean;
  /** Milliseconds until notAfter (negative once expired). */
  expiresInMs: number;
  key: KeyDescription;
  signatureAlgorithm: string;
  isCa: boolean | null;
  /** Key usage names; `null` when the certificate has no key usage extension. */
  keyUsage: string[] | null;
  /** Extended key usage names; `null` when there is no extended key usage extension. */
  extendedKeyUsage: string[] | null;
  svid: SvidConformance;
}

/**
 * Builds the view of one certificate: identity (SANs read from the DER), validity, key, usages and
 * X509-SVID conformance.
 *
 * @example
 * ```ts
 * const view = describeCertificate(facts);
 * console.log(view.spiffeId, view.validity); // spiffe://example.org/web expires in 23h59m
 * ```
 */
export function describeCertificate(cert: CertificateFacts, now: Date = new Date()): CertificateView {
  const identity = identityFromCertificate(cert.node);
  const role = roleOf(cert);
  // Node's X509Certificate.keyUsage holds the extended key usage OIDs (its name misleads).
  const eku = cert.node.keyUsage;
  return {
    role,
    subject: identity.subject,
    issuer: identity.issuer,
    serialNumber: identity.serialNumber,
    fingerprint256: identity.fingerprint256,
    spiffeId: identity.spiffeId?.toString() ?? null,
    dnsNames: [...identity.dnsNames],
    ipAddresses: [...identity.ipAddresses],
    uris: [...identity.uris],
    notBefore: identity.notBefore,
    notAfter: identity.notAfter,
    validity: expiryPhrase(identity.notBefore, identity.notAfter, now),
    valid: now >= identity.notBefore && now <= identity.notAfter,
    expiresInMs: identity.notAfter.getTime() - now.getTime(),
    key: describeKey(cert.node.publicKey),
    signatureAlgorithm: signatureName(cert),
    isCa: cert.isCa ?? null,
    keyUsage: cert.keyUsage === undefined ? null : keyUsageNames(cert.keyUsage),
    extendedKeyUsage: eku === undefined ? null : eku.map(extendedKeyUsageName),
    svid: svidConformance(cert, role),
  };
}
