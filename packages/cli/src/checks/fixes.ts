import type { Check } from './check.js';

// One line each: what to do about a failure, written for the person at the terminal.
const FIXES: Record<string, string> = {
  ERR_MESHLESS_FILE_UNREADABLE:
    'check the path, that the volume is mounted, and that this user can read the file (Kubernetes: the secret volume defaultMode and the pod fsGroup)',
  ERR_MESHLESS_LAYOUT_UNKNOWN:
    'name the files tls.crt, tls.key, ca.crt (cert-manager) or svid.pem, svid_key.pem, svid_bundle.pem (spiffe-helper), or pass --cert, --key and --ca',
  ERR_MESHLESS_INPUT_TOO_LARGE:
    'point at the certificate or key file itself, not a log, an archive or a directory dump',
  ERR_MESHLESS_PEM_INVALID:
    'the file must hold PEM blocks (-----BEGIN CERTIFICATE-----); convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`, and keep keys out of certificate files',
  ERR_MESHLESS_KEY_INVALID:
    'the key file is corrupt or not a private key: re-issue it (meshless issue) or export it again as PKCS#8',
  ERR_MESHLESS_KEY_ENCRYPTED:
    'pass its passphrase with --passphrase-env VAR, or store the key unencrypted with mode 0600',
  ERR_MESHLESS_KEY_DECRYPT_FAILED:
    'the passphrase is wrong or the key is corrupt: check the variable named by --passphrase-env',
  ERR_MESHLESS_KEY_MISMATCH:
    'the key and the certificate come from different issuances: write both from the same one (a writer that updates tls.crt before tls.key shows this for a moment only)',
  ERR_MESHLESS_KEY_WEAK:
    'issue a new certificate with an ECDSA P-256 key (meshless issue --key ecdsa-p256) or an RSA key of 2048 bits or more',
  ERR_MESHLESS_SIGNATURE_WEAK: 're-issue it from a CA that signs with SHA-256 or stronger',
  ERR_MESHLESS_CERT_EXPIRED:
    'renew it now: meshless issue, `kubectl describe certificate` for cert-manager, or the SPIRE agent logs; then find out why rotation stopped',
  ERR_MESHLESS_CERT_NOT_YET_VALID:
    'check the clocks of this machine and of the CA (NTP), or wait until notBefore',
  ERR_MESHLESS_CERT_EXPIRING:
    'renew it now: it should have been renewed already; check the issuer (cert-manager Certificate status, SPIRE agent, your renewal job)',
  ERR_MESHLESS_CHAIN_UNTRUSTED:
    'put the intermediates after the leaf in the certificate file, and the root of the issuing CA in the trust bundle',
  ERR_MESHLESS_BUNDLE_INVALID:
    'the trust bundle must hold CA certificates (CA:true with keyCertSign): the root of the issuer, not a workload certificate',
  ERR_MESHLESS_SVID_INVALID:
    'issue an X509-SVID: exactly one spiffe:// URI SAN with a path, CA:false, key usage digitalSignature (meshless issue makes these)',
  ERR_MESHLESS_LEAF_INVALID:
    'a workload certificate must not be a CA: issue a leaf with basicConstraints CA:false',
  ERR_MESHLESS_KEY_PERMISSIONS:
    'chmod 600 the key file (Kubernetes: defaultMode 0400, or 0440 with the pod fsGroup, on the secret volume)',
};

/**
 * The fix for a failed check, from its code.
 *
 * @example
 * ```ts
 * fixFor('ERR_MESHLESS_KEY_PERMISSIONS'); // 'chmod 600 the key file (...)'
 * ```
 */
export function fixFor(code: string | undefined): string | undefined {
  return code ? FIXES[code] : undefined;
}

/**
 * Adds the fix to every failed check that has one.
 *
 * @example
 * ```ts
 * const checks = withFixes(report.checks);
 * ```
 */
export function withFixes(checks: readonly Check[]): Check[] {
  return checks.map((check) => {
    const fix = check.outcome === 'fail' ? fixFor(check.code) : undefined;
    return fix ? { ...check, fix } : check;
  });
}
