import { createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import {
  assertKnownOptions,
  assertOptionsObject,
  decodePem,
  MeshlessError,
  optionError,
  type SpiffeId,
} from '@meshless/core';
import type * as x509 from '@peculiar/x509';
import {
  DEFAULT_KEY_ALGORITHM,
  generateKeys,
  type KeyAlgorithm,
  keyAlgorithmOption,
  pkcs8Pem,
  signingKey,
  spkiDer,
} from './keys.js';
import { dnsNamesOption, ipAddressesOption } from './names.js';
import { leafSubject } from './profile.js';
import { workloadSpiffeId } from './spiffe.js';
import { loadedX509, loadX509 } from './x509.js';

const SAN_OID = '2.5.29.17';
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/**
 * What {@link createCsr} puts in a certificate signing request.
 *
 * @example
 * ```ts
 * const options: CsrOptions = { spiffeId: 'spiffe://example.org/ns/prod/sa/web', dnsNames: ['web'], keyAlgorithm: 'ed25519' };
 * ```
 */
export interface CsrOptions {
  /** The workload's SPIFFE ID (with a path); it goes in the SAN extension request. */
  spiffeId: string | SpiffeId;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Default `'ecdsa-p256'`. */
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * A PKCS#10 request and the private key that signed it.
 *
 * @example
 * ```ts
 * const { csrPem, keyPem }: CreatedCsr = await createCsr({ spiffeId: 'spiffe://example.org/web' });
 * ```
 */
export interface CreatedCsr {
  /** The request, as `-----BEGIN CERTIFICATE REQUEST-----` PEM. */
  readonly csrPem: string;
  /** The private key as unencrypted PKCS#8 PEM: it stays with the workload. */
  readonly keyPem: string;
}

/** The contents of a verified CSR that matter to the CA. */
export interface CsrContents {
  spiffeId: SpiffeId;
  dnsNames: string[];
  ipAddresses: string[];
  publicKey: KeyObject;
}

/**
 * Makes a key and a PKCS#10 certificate signing request for it, to have a workload certificate
 * signed by an external CA (or by {@link CertificateAuthority.signCsr}). The SPIFFE ID and any DNS
 * and IP names go in a subjectAltName extension request; the subject is `CN=<last path segment>`.
 *
 * @throws MeshlessError `ERR_MESHLESS_SPIFFE_ID_INVALID` or `ERR_MESHLESS_SVID_INVALID` (no path);
 * ERR_MESHLESS_INVALID_OPTION for bad options.
 * @example
 * ```ts
 * const { csrPem, keyPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/prod/sa/web', dnsNames: ['web'] });
 * await writeFile('web.csr', csrPem);
 * await writeFile('web.key', keyPem, { mode: 0o600 });
 * ```
 */
export async function createCsr(options: CsrOptions): Promise<CreatedCsr> {
  assertOptionsObject('createCsr', options);
  assertKnownOptions('createCsr', options, ['spiffeId', 'dnsNames', 'ipAddresses', 'keyAlgorithm']);
  const x509 = await loadX509();
  const keyAlgorithm = keyAlgorithmOption(options.keyAlgorithm, DEFAULT_KEY_ALGORITHM);
  const dnsNames = dnsNamesOption(options.dnsNames);
  const ipAddresses = ipAddressesOption(options.ipAddresses);
  const spiffeId = workloadSpiffeId(options.spiffeId);
  const keys = await generateKeys(keyAlgorithm);
  const privateKey = await signingKey(keys.privateKey);
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    spkiDer(keys.publicKey),
    privateKey.algorithm,
    true,
    ['verify'],
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: leafSubject(spiffeId),
    keys: { privateKey, publicKey },
    signingAlgorithm: { name: privateKey.algorithm.name, hash: 'SHA-256' } as webcrypto.EcdsaParams,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: spiffeId.toString() },
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  return Object.freeze({
    csrPem: `${csr.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`,
    keyPem: pkcs8Pem(keys.privateKey),
  });
}

/**
 * Parses a PEM CSR and verifies its signature (proof that the requester holds the key), then reads
 * the SPIFFE ID, DNS and IP names from its subjectAltName extension request.
 *
 * @throws MeshlessError `ERR_MESHLESS_CSR_INVALID` for anything that is not a well-signed CSR with
 * exactly one URI SAN; `ERR_MESHLESS_SPIFFE_ID_INVALID` or `ERR_MESHLESS_SVID_INVALID` for the ID itself.
 */
export async function readCsr(csrPem: unknown): Promise<CsrContents> {
  const csr = await parseAndVerify(csrPem);
  const names = requestedNames(csr);
  const uris = names.filter((n) => n.type === 'url');
  if (uris.length !== 1) {
    throw invalid(
      `it requests ${uris.length} URI SANs; exactly one, the workload's SPIFFE ID, is required`,
      'uri-san-count',
    );
  }
  let dnsNames: string[];
  let ipAddresses: string[];
  try {
    dnsNames = dnsNamesOption(names.filter((n) => n.type === 'dns').map((n) => n.value));
    ipAddresses = ipAddressesOption(names.filter((n) => n.type === 'ip').map((n) => n.value));
  } catch (cause) {
    throw invalid(`it requests a SAN that cannot be issued (${(cause as Error).message})`, 'san', cause);
  }
  return {
    spiffeId: workloadSpiffeId(uris[0]?.value),
    dnsNames,
    ipAddresses,
    publicKey: createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' }),
  };
}

function requestedNames(csr: x509.Pkcs10CertificateRequest): { type: string; value: string }[] {
  const extensions = csr.getExtensions(SAN_OID);
  if (extensions.length > 1) throw invalid('it requests more than one subjectAltName extension', 'san-count');
  if (!extensions[0]) return [];
  try {
    const san = new (loadedX509().SubjectAlternativeNameExtension)(extensions[0].rawData);
    return san.names.items.map((n) => ({ type: n.type, value: n.value }));
  } catch (cause) {
    throw invalid('its subjectAltName extension request cannot be parsed', 'san', cause);
  }
}

async function parseAndVerify(csrPem: unknown): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== 'string' && !(csrPem instanceof Uint8Array))
    throw optionError('signCsr expects the CSR as a PEM string or Buffer');
  const x509 = await loadX509();
  let der: Uint8Array;
  try {
    const blocks = decodePem(csrPem, 'csr');
    const block = blocks.length === 1 ? blocks[0] : undefined;
    if (!block || !CSR_LABELS.has(block.label))
      throw new Error(
        `expected one CERTIFICATE REQUEST block, found ${blocks.map((b) => b.label).join(', ')}`,
      );
    der = block.der;
  } catch (cause) {
    throw invalid(`it is not a PEM certificate request (${(cause as Error).message})`, 'pem', cause);
  }
  let csr: x509.Pkcs10CertificateRequest;
  let verified = false;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
    verified = await csr.verify();
  } catch (cause) {
    throw invalid(
      `it cannot be parsed or its signature cannot be checked (${(cause as Error).message})`,
      'parse',
      cause,
    );
  }
  if (!verified) throw invalid('its signature does not verify with its own public key', 'signature');
  return csr;
}

function invalid(why: string, rule: string, cause?: unknown): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_CSR_INVALID',
    `invalid certificate signing request: ${why}`,
    { input: 'csr', rule },
    cause,
  );
}
