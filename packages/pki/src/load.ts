import { type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  assertKnownOptions,
  assertOptionsObject,
  decodePem,
  MeshlessError,
  optionError,
  type PemBlock,
  parseSpiffeId,
  parseTrustDomain,
  readPrivateKey,
  type TrustDomain,
} from '@meshless/core';
import type * as x509 from '@peculiar/x509';
import { authorityOf, type CertificateAuthority } from './ca.js';
import type { Issuer } from './issuer.js';
import { keyIdOf, pemOf } from './issuer.js';
import { describeKey, pkcs8Pem, signingKey } from './keys.js';
import { CA_FILES } from './save.js';
import { loadedX509, loadX509 } from './x509.js';

/**
 * Options of {@link loadCa}.
 *
 * @example
 * ```ts
 * const ca = await loadCa('./corp-ca', { trustDomain: 'corp.example', passphrase: process.env.CA_PASSPHRASE });
 * ```
 */
export interface LoadCaOptions {
  /**
   * The trust domain, for a CA certificate without a `spiffe://<td>` URI SAN (one made elsewhere).
   * When the certificate has one, they must agree.
   */
  trustDomain?: string;
  /** The passphrase of an encrypted `ca.key`. */
  passphrase?: string;
}

interface Parsed {
  block: PemBlock;
  node: X509Certificate;
  cert: x509.X509Certificate;
}

/**
 * Reads a CA saved by {@link CertificateAuthority.save} (or laid out the same way by hand):
 * `ca.crt` (the CA certificate, then any intermediates above it), `ca.key` and `bundle.crt` (the
 * root). It checks that the key belongs to the certificate, that the certificate is a CA, that
 * it chains to the bundle, and finds the trust domain in its URI SAN. Expiry is checked when it
 * signs, not here.
 *
 * @throws MeshlessError naming the file at fault: `ERR_MESHLESS_CA_INVALID` (unreadable file, not a CA,
 * no trust domain), `ERR_MESHLESS_PEM_INVALID`, `ERR_MESHLESS_KEY_INVALID`, `ERR_MESHLESS_KEY_ENCRYPTED`,
 * `ERR_MESHLESS_KEY_MISMATCH`, `ERR_MESHLESS_KEY_WEAK`, `ERR_MESHLESS_CHAIN_UNTRUSTED`,
 * `ERR_MESHLESS_TRUST_DOMAIN_MISMATCH`.
 * @example
 * ```ts
 * const ca = await loadCa('./dev-ca');
 * const issued = await ca.issue({ spiffeId: `spiffe://${ca.trustDomain}/ns/prod/sa/web` });
 * ```
 */
export async function loadCa(dir: string, options: LoadCaOptions = {}): Promise<CertificateAuthority> {
  if (typeof dir !== 'string' || dir.length === 0) throw optionError('loadCa: dir must be a directory path');
  assertOptionsObject('loadCa', options);
  assertKnownOptions('loadCa', options, ['trustDomain', 'passphrase']);
  await loadX509();
  const files = {
    cert: join(dir, CA_FILES.cert),
    key: join(dir, CA_FILES.key),
    bundle: join(dir, CA_FILES.bundle),
  };
  // Read together, reported in file order: the error names the same file whichever read fails first.
  const reads = await Promise.allSettled([read(files.cert), read(files.key), read(files.bundle)]);
  const failed = reads.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [certText, keyText, bundleText] = reads.map((r) => (r as PromiseFulfilledResult<string>).value) as [
    string,
    string,
    string,
  ];
  const chain = certificates(certText, 'cert', files.cert);
  const bundle = certificates(bundleText, 'ca', files.bundle);
  const key = readPrivateKey(keyText, {
    file: files.key,
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
  });
  const own = chain[0] as Parsed;
  if (!own.node.checkPrivateKey(key)) {
    throw new MeshlessError(
      'ERR_MESHLESS_KEY_MISMATCH',
      `key (${files.key}) does not belong to the CA certificate "${own.cert.subject}" in ${files.cert}`,
      {
        input: 'key',
        file: files.key,
        subject: own.cert.subject,
      },
    );
  }
  assertCa(own, files.cert);
  assertChains(chain, bundle, files.cert);
  const trustDomain = trustDomainOf(own, options.trustDomain, files.cert);
  const isRoot = chain.length === 1 && selfSigned(own);
  const issuer: Issuer = {
    cert: own.cert,
    signingKey: await signingKey(key),
    keyId: await keyIdOf(own.cert),
    trustDomain,
    chainPem: chain
      .filter((c) => !selfSigned(c) || c === own)
      .map((c) => pemOf(c.cert))
      .join(''),
    rootPem: bundle.map((c) => pemOf(c.cert)).join(''),
    isRoot,
  };
  return authorityOf(issuer, pkcs8Pem(key as KeyObject), describeKey(key));
}

async function read(file: string): Promise<string> {
  try {
    return await readFile(file, 'latin1');
  } catch (cause) {
    throw new MeshlessError(
      'ERR_MESHLESS_CA_INVALID',
      `cannot read ${file}: ${unreadableReason(cause as NodeJS.ErrnoException, file)}`,
      { file, rule: 'file-unreadable' },
      cause,
    );
  }
}

function certificates(text: string, input: 'cert' | 'ca', file: string): Parsed[] {
  const blocks = decodePem(text, input, file);
  const x509 = loadedX509();
  return blocks.map((block, index) => {
    if (block.label !== 'CERTIFICATE') {
      throw new MeshlessError(
        'ERR_MESHLESS_PEM_INVALID',
        `${input} (${file}) holds a ${block.label} block where only CERTIFICATE blocks belong`,
        {
          input,
          file,
          actual: block.label,
        },
      );
    }
    try {
      return { block, node: new X509Certificate(block.der), cert: new x509.X509Certificate(block.der) };
    } catch (cause) {
      throw new MeshlessError(
        'ERR_MESHLESS_PEM_INVALID',
        `certificate ${index + 1} of ${input} (${file}) is not valid X.509 DER`,
        { input, file },
        cause,
      );
    }
  });
}

function assertCa(own: Parsed, file: string): void {
  const x509 = loadedX509();
  const basic = own.cert.getExtension(x509.BasicConstraintsExtension);
  const usage = own.cert.getExtension(x509.KeyUsagesExtension);
  const problem =
    basic?.ca !== true
      ? 'basicConstraints CA:true is missing'
      : usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)
        ? 'its key usage lacks keyCertSign'
        : undefined;
  if (problem) {
    throw new MeshlessError(
      'ERR_MESHLESS_CA_INVALID',
      `the certificate "${own.cert.subject}" in ${file} cannot sign certificates: ${problem}`,
      {
        input: 'cert',
        file,
        subject: own.cert.subject,
        rule: 'not-a-ca',
      },
    );
  }
}

// ca.crt[i] is issued by ca.crt[i + 1], and the last one by a root of the bundle (or is one).
function assertChains(chain: Parsed[], bundle: Parsed[], file: string): void {
  for (let i = 0; i < chain.length; i++) {
    const current = chain[i] as Parsed;
    const inBundle = bundle.some((root) => root.block.pem === current.block.pem);
    if (inBundle) return;
    const next = chain[i + 1];
    if (next && issuedBy(current, next)) continue;
    if (!next && bundle.some((root) => issuedBy(current, root))) return;
    throw new MeshlessError(
      'ERR_MESHLESS_CHAIN_UNTRUSTED',
      `the CA certificate "${current.cert.subject}" in ${file} is not issued by ${next ? `the next certificate in ${file}` : 'a root of the bundle'}`,
      { input: 'cert', file, subject: current.cert.subject },
    );
  }
}

function issuedBy(subject: Parsed, issuer: Parsed): boolean {
  return subject.node.checkIssued(issuer.node) && subject.node.verify(issuer.node.publicKey);
}

function selfSigned(cert: Parsed): boolean {
  return issuedBy(cert, cert);
}

function trustDomainOf(own: Parsed, wanted: string | undefined, file: string): TrustDomain {
  const x509 = loadedX509();
  const san = own.cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
  const fromCert = uris.length === 1 ? trustDomainOfUri(uris[0] as string) : undefined;
  const given = wanted === undefined ? undefined : parseTrustDomain(wanted);
  if (fromCert && given && !fromCert.equals(given)) {
    throw new MeshlessError(
      'ERR_MESHLESS_TRUST_DOMAIN_MISMATCH',
      `the CA certificate in ${file} is for trust domain "${fromCert.name}", not "${given.name}"`,
      { input: 'trustDomain', file, expected: given.name, actual: fromCert.name },
    );
  }
  const trustDomain = fromCert ?? given;
  if (!trustDomain) {
    throw new MeshlessError(
      'ERR_MESHLESS_CA_INVALID',
      `the CA certificate "${own.cert.subject}" in ${file} names no trust domain (no spiffe:// URI SAN); pass loadCa(dir, { trustDomain })`,
      { input: 'cert', file, subject: own.cert.subject, rule: 'trust-domain-missing' },
    );
  }
  return trustDomain;
}

// The trust domain of a `spiffe://` URI SAN; a URI that is not a SPIFFE ID names none.
function trustDomainOfUri(uri: string): TrustDomain | undefined {
  try {
    return parseSpiffeId(uri).trustDomain;
  } catch {
    return undefined;
  }
}

// Node's "ENOENT: no such file or directory, open 'ca/ca.crt'" says the path twice and reads like
// a crash: keep the reason, and say what a missing CA file usually means.
function unreadableReason(cause: NodeJS.ErrnoException, file: string): string {
  const reason = /^[A-Z0-9]+: ([^,]+)/.exec(cause.message)?.[1] ?? cause.message;
  const errno = typeof cause.code === 'string' ? ` (${cause.code})` : '';
  const hint =
    cause.code === 'ENOENT' || cause.code === 'ENOTDIR'
      ? `; is ${dirname(file)} a CA directory, as \`meshless ca create --out ${dirname(file)}\` makes?`
      : '';
  return `${reason}${errno}${hint}`;
}
