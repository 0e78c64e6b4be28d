import type { KeyObject } from 'node:crypto';
import {
  assertCurrentlyValid,
  assertLeafProfile,
  assertStrongKey,
  assertStrongSignature,
  type CertificateFacts,
  loadMaterial,
  MeshlessError,
  type PeerIdentity,
  readCertificates,
  readPrivateKey,
  signingProblem,
  verifyChain,
} from '@meshless/core';
import { expiryPhrase } from '../format/duration.js';
import { describeKey } from '../format/key.js';
import { plural } from '../format/plural.js';
import { attempt, type Check, skipped } from './check.js';

/** One input of the material: its bytes, or the error reading it. */
export interface MaterialFile {
  file: string;
  data?: Buffer;
  /** Why the file could not be read (`ERR_MESHLESS_FILE_UNREADABLE`). */
  error?: MeshlessError;
}

/** The three files `loadMaterial` reads, as `verify` and `doctor` got them. */
export interface MaterialFiles {
  cert: MaterialFile;
  key: MaterialFile;
  ca: MaterialFile;
  passphrase?: string;
}

/** The checks, and what was parsed along the way (for doctor's own checks). */
export interface MaterialReport {
  checks: Check[];
  chain?: CertificateFacts[];
  bundle?: CertificateFacts[];
  identity?: PeerIdentity;
}

/**
 * Runs every check of `loadMaterial` one by one, in its order, so each gets its own mark and
 * code: PEM of the cert and ca files, key readable, key strength, key match, leaf signature
 * strength, X509-SVID profile, validity, trust anchors, chain. A check whose inputs failed is
 * skipped, not failed again. When every step passes, `loadMaterial` itself runs last, so `verify`
 * can never accept what meshless refuses.
 *
 * @example
 * ```ts
 * const { checks } = checkMaterial({ cert: { file, data }, key: { file: k, data: kd }, ca: { file: c, data: cd } });
 * checks.filter((c) => c.outcome === 'fail').map((c) => c.code);
 * ```
 */
export function checkMaterial(files: MaterialFiles, now: Date = new Date()): MaterialReport {
  const checks: Check[] = [];
  let chain: CertificateFacts[] | undefined;
  let bundle: CertificateFacts[] | undefined;
  let key: KeyObject | undefined;

  checks.push(
    attempt('cert-pem', `cert file ${files.cert.file} holds PEM certificates`, () => {
      chain = readCertificateFile(files.cert, 'cert');
      return `${plural(chain.length, 'certificate')}, leaf "${chain[0]?.subject}"`;
    }),
  );
  checks.push(
    attempt('ca-pem', `ca file ${files.ca.file} holds PEM certificates`, () => {
      bundle = readCertificateFile(files.ca, 'ca');
      return plural(bundle.length, 'certificate');
    }),
  );
  checks.push(
    attempt('key-readable', `key file ${files.key.file} holds a readable private key`, () => {
      const data = contentOf(files.key);
      key = readPrivateKey(data, {
        file: files.key.file,
        ...(files.passphrase ? { passphrase: files.passphrase } : {}),
      });
      return describeKey(key).text;
    }),
  );
  const leaf = chain?.[0];
  const noCert = 'the cert file did not parse';
  const noKey = 'the key did not load';
  const noCa = 'the ca file did not parse';

  checks.push(
    key
      ? attempt('key-strength', 'key is strong enough', () => {
          assertStrongKey(key as KeyObject, `key (${files.key.file})`, {
            input: 'key',
            file: files.key.file,
          });
          return describeKey(key as KeyObject).text;
        })
      : skipped('key-strength', 'key is strong enough', noKey),
  );
  checks.push(
    key && leaf
      ? attempt('key-match', 'key belongs to the leaf certificate', () => {
          assertKeyMatches(leaf, key as KeyObject, files);
          return undefined;
        })
      : skipped('key-match', 'key belongs to the leaf certificate', key ? noCert : noKey),
  );
  checks.push(
    leaf
      ? attempt('signature', 'leaf is signed with SHA-256 or stronger', () => {
          assertStrongSignature(leaf, 'leaf');
          return undefined;
        })
      : skipped('signature', 'leaf is signed with SHA-256 or stronger', noCert),
  );
  checks.push(svidProfileCheck(leaf, noCert));
  checks.push(
    leaf
      ? attempt('validity', 'leaf is within its validity period', () => {
          // 'leaf' names it in the message: "leaf certificate "CN=web" expired at ...".
          assertCurrentlyValid(leaf, 'leaf', { now });
          return expiryPhrase(leaf.notBefore, leaf.notAfter, now);
        })
      : skipped('validity', 'leaf is within its validity period', noCert),
  );
  checks.push(
    bundle
      ? attempt('trust-anchors', 'every certificate of the ca file can be a trust anchor', () => {
          for (const root of bundle as CertificateFacts[]) assertTrustAnchor(root);
          return undefined;
        })
      : skipped('trust-anchors', 'every certificate of the ca file can be a trust anchor', noCa),
  );
  checks.push(
    leaf && bundle
      ? attempt('chain', 'leaf chains to a root of the ca file', () => {
          const verified = verifyChain(
            leaf,
            (chain as CertificateFacts[]).slice(1),
            bundle as CertificateFacts[],
            {
              now,
            },
          );
          return verified.path.map((c) => `"${c.subject}"`).join(' → ');
        })
      : skipped('chain', 'leaf chains to a root of the ca file', leaf ? noCa : noCert),
  );

  let identity: PeerIdentity | undefined;
  if (checks.every((check) => check.outcome === 'pass')) {
    checks.push(
      attempt('load', 'loadMaterial accepts the material', () => {
        const material = loadMaterial({
          cert: contentOf(files.cert),
          key: contentOf(files.key),
          ca: contentOf(files.ca),
          now,
          files: { cert: files.cert.file, key: files.key.file, ca: files.ca.file },
          ...(files.passphrase ? { passphrase: files.passphrase } : {}),
        });
        identity = material.identity;
        return undefined;
      }),
    );
  }
  return {
    checks,
    ...(chain ? { chain } : {}),
    ...(bundle ? { bundle } : {}),
    ...(identity ? { identity } : {}),
  };
}

function contentOf(input: MaterialFile): Buffer {
  if (input.error) throw input.error;
  return input.data ?? Buffer.alloc(0);
}

// As loadMaterial reads its cert and ca inputs: every block must be a certificate.
function readCertificateFile(input: MaterialFile, name: 'cert' | 'ca'): CertificateFacts[] {
  return readCertificates(contentOf(input), name, input.file);
}

function assertKeyMatches(leaf: CertificateFacts, key: KeyObject, files: MaterialFiles): void {
  if (leaf.node.checkPrivateKey(key)) return;
  throw new MeshlessError(
    'ERR_MESHLESS_KEY_MISMATCH',
    `key (${files.key.file}) does not belong to the certificate "${leaf.subject}" in cert (${files.cert.file})`,
    { input: 'key', file: files.key.file, subject: leaf.subject, fingerprint: leaf.fingerprint256 },
  );
}

function assertTrustAnchor(root: CertificateFacts): void {
  const problem = signingProblem(root);
  if (!problem) return;
  throw new MeshlessError(
    'ERR_MESHLESS_BUNDLE_INVALID',
    `trust bundle certificate "${root.subject}" cannot be a trust anchor: ${problem}`,
    { input: 'ca', subject: root.subject, fingerprint: root.fingerprint256 },
  );
}

const SVID_PROFILE = 'leaf follows the X509-SVID profile';
const PLAIN_LEAF = 'leaf is a workload certificate, not a CA';

// A leaf without a SPIFFE ID is not an X509-SVID: the profile does not apply, so the check says
// what is checked instead (the leaf is not a CA) rather than claiming a profile it does not follow.
function svidProfileCheck(leaf: CertificateFacts | undefined, noCert: string): Check {
  if (!leaf) return skipped('svid-profile', SVID_PROFILE, noCert);
  const spiffe = leaf.uris.find((u) => u.toLowerCase().startsWith('spiffe:'));
  return attempt('svid-profile', spiffe ? SVID_PROFILE : PLAIN_LEAF, () => {
    assertLeafProfile(leaf);
    return spiffe ?? 'no SPIFFE ID, so not an X509-SVID: a DNS/IP identity, checked as a plain leaf';
  });
}
