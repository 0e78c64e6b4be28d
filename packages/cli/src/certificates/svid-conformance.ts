import {
  assertLeafProfile,
  type CertificateFacts,
  isMeshlessError,
  parseSpiffeId,
  signingProblem,
} from '@meshless/core';
import type { CertificateRole } from './role.js';

// Key usage bits as in CertificateFacts.keyUsage (@peculiar/x509's KeyUsageFlags).
const DIGITAL_SIGNATURE = 1;
const KEY_CERT_SIGN = 32;
const CRL_SIGN = 64;

/** One broken X509-SVID rule: the rule's name (as `err.context.rule` of core names it) and why. */
export interface SvidFailure {
  rule: string;
  reason: string;
}

/** How a certificate measures up to the SPIFFE X509-SVID profile. */
export interface SvidConformance {
  /** `leaf` for a workload SVID, `signing` for a root or intermediate. */
  profile: 'leaf' | 'signing';
  conforms: boolean;
  /** Every rule it breaks, not only the first, so one look shows everything to fix. */
  failures: SvidFailure[];
}

/**
 * Checks a certificate against every rule of the X509-SVID profile for its role and lists each
 * rule it breaks. For leaves the result agrees with `assertLeafProfile` of core (which stops at
 * the first failure): a failure core finds is never missing here.
 *
 * @example
 * ```ts
 * const result = svidConformance(facts, 'leaf');
 * for (const f of result.failures) console.log(`${f.reason} (${f.rule})`);
 * ```
 */
export function svidConformance(cert: CertificateFacts, role: CertificateRole): SvidConformance {
  if (role !== 'leaf') {
    const problem = signingProblem(cert);
    const failures = problem ? [{ rule: 'signing-certificate', reason: problem }] : [];
    return { profile: 'signing', conforms: failures.length === 0, failures };
  }
  const failures = leafFailures(cert);
  const first = coreVerdict(cert);
  if (first && !failures.some((f) => f.rule === first.rule)) failures.unshift(first);
  return { profile: 'leaf', conforms: failures.length === 0, failures };
}

function leafFailures(cert: CertificateFacts): SvidFailure[] {
  const failures: SvidFailure[] = [];
  const spiffeUris = cert.uris.filter((u) => u.toLowerCase().startsWith('spiffe:'));
  if (spiffeUris.length === 0) {
    failures.push({
      rule: 'spiffe-id-missing',
      reason: 'it has no spiffe:// URI SAN, so it is not an X509-SVID (a plain DNS/IP certificate)',
    });
  } else if (cert.uris.length !== 1) {
    failures.push({
      rule: 'uri-san-count',
      reason: `it has ${cert.uris.length} URI SANs, exactly one is allowed`,
    });
  }
  for (const uri of spiffeUris) {
    try {
      const id = parseSpiffeId(uri);
      if (id.path === '')
        failures.push({
          rule: 'root-path',
          reason: `its SPIFFE ID ${id} has no path (that is the trust domain's own ID)`,
        });
    } catch (err) {
      failures.push({ rule: 'spiffe-id', reason: (err as Error).message });
    }
  }
  if (cert.isCa === true)
    failures.push({ rule: 'leaf-is-ca', reason: 'it is a CA (basicConstraints CA:true)' });
  if (cert.keyUsage === undefined) {
    failures.push({
      rule: 'key-usage-missing',
      reason: 'it has no key usage extension (digitalSignature is required)',
    });
  } else {
    if (!(cert.keyUsage & DIGITAL_SIGNATURE))
      failures.push({ rule: 'key-usage-digital-signature', reason: 'its key usage lacks digitalSignature' });
    if (cert.keyUsage & KEY_CERT_SIGN)
      failures.push({
        rule: 'key-usage-key-cert-sign',
        reason: 'its key usage has keyCertSign, which a leaf must not have',
      });
    if (cert.keyUsage & CRL_SIGN)
      failures.push({
        rule: 'key-usage-crl-sign',
        reason: 'its key usage has cRLSign, which a leaf must not have',
      });
  }
  return failures;
}

// What loadMaterial would say, so inspect can never call a leaf conforming that meshless refuses.
function coreVerdict(cert: CertificateFacts): SvidFailure | undefined {
  try {
    assertLeafProfile(cert);
    return undefined;
  } catch (err) {
    if (!isMeshlessError(err)) throw err;
    return {
      rule: String(err.context.rule ?? err.code),
      reason: err.message.replace(/^leaf certificate "[^"]*" (is not a valid X509-SVID: )?/, ''),
    };
  }
}
