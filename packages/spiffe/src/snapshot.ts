import { identityFromCertificate, MeshlessError, parseTrustDomain } from '@meshless/core';
import { derCertificatesToPem, pkcs8DerToPem, splitDer } from './der.js';
import type { X509SvidMessage, X509SvidResponseMessage } from './proto/messages.js';

/** One X.509-SVID of a Workload API response, decoded to PEM. */
export interface X509Svid {
  /** The SPIFFE ID, as the response names it (and its certificate holds). */
  readonly spiffeId: string;
  /** The operator's hint, such as `internal` or `external`; `''` when there is none. */
  readonly hint: string;
  /** The leaf first, then intermediates. */
  readonly certPem: string;
  readonly keyPem: string;
  /** The bundle of the SVID's own trust domain. */
  readonly bundlePem: string;
}

/** A Workload API response: the full set of SVIDs and federated bundles at one moment. */
export interface X509Snapshot {
  readonly svids: readonly X509Svid[];
  /** Bundles of federated trust domains by trust domain name (`b.org`), as PEM. */
  readonly federatedBundles: ReadonlyMap<string, string>;
}

/**
 * Decodes and checks one FetchX509SVID response. A response with an empty mandatory field, bytes
 * that are not DER, or an SVID whose certificate names another SPIFFE ID is refused whole: the
 * specification makes every response a full snapshot, so a partial one must not be acted on.
 *
 * @throws MeshlessError `ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID`, whose `context.rule` says why.
 * @example
 * ```ts
 * call.on('data', (message) => {
 *   const snapshot = readSnapshot(message);
 *   snapshot.svids[0]?.spiffeId; // the default SVID
 * });
 * ```
 */
export function readSnapshot(message: X509SvidResponseMessage): X509Snapshot {
  const svids = message.svids ?? [];
  if (svids.length === 0) throw invalid('no-svids', 'the response holds no SVID');
  const federatedBundles = new Map<string, string>();
  for (const [key, der] of Object.entries(message.federated_bundles ?? {})) {
    let name: string;
    try {
      name = parseTrustDomain(key).name;
    } catch (cause) {
      throw invalid('federated-trust-domain', `federated bundle key "${key}" is not a trust domain`, cause);
    }
    federatedBundles.set(name, certificatesPem(der, `the federated bundle of ${name}`, 'federated-bundle'));
  }
  return Object.freeze({ svids: Object.freeze(svids.map(readSvid)), federatedBundles });
}

function readSvid(svid: X509SvidMessage, index: number): X509Svid {
  const where = `SVID ${index + 1}${svid.spiffe_id ? ` (${svid.spiffe_id})` : ''}`;
  for (const field of ['spiffe_id', 'x509_svid', 'x509_svid_key', 'bundle'] as const) {
    if (!svid[field] || svid[field].length === 0) {
      throw invalid('empty-field', `${where} has an empty ${field}`, undefined, { field });
    }
  }
  const certPem = certificatesPem(svid.x509_svid, `the x509_svid of ${where}`, 'x509-svid');
  const bundlePem = certificatesPem(svid.bundle, `the bundle of ${where}`, 'bundle');
  let keyPem: string;
  try {
    keyPem = pkcs8DerToPem(svid.x509_svid_key);
  } catch (cause) {
    throw invalid(
      'x509-svid-key',
      `the x509_svid_key of ${where} is not an unencrypted PKCS#8 DER key`,
      cause,
    );
  }
  let named: string | undefined;
  try {
    named = identityFromCertificate(splitDer(svid.x509_svid)[0] as Buffer).spiffeId?.toString();
  } catch (cause) {
    throw invalid('x509-svid', `the x509_svid of ${where} is not DER certificates`, cause);
  }
  if (named !== svid.spiffe_id) {
    throw invalid(
      'spiffe-id-mismatch',
      `${where}: its certificate holds ${named ?? 'no SPIFFE ID'}`,
      undefined,
      {
        expected: svid.spiffe_id,
        actual: named,
      },
    );
  }
  return Object.freeze({ spiffeId: svid.spiffe_id, hint: svid.hint ?? '', certPem, keyPem, bundlePem });
}

function certificatesPem(der: Uint8Array, what: string, rule: string): string {
  if (!der || der.length === 0) throw invalid('empty-field', `${what} is empty`, undefined, { field: rule });
  try {
    return derCertificatesToPem(der);
  } catch (cause) {
    throw invalid(rule, `${what} is not DER certificates`, cause);
  }
}

function invalid(rule: string, message: string, cause?: unknown, extra: object = {}): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID',
    `Workload API response discarded: ${message}`,
    { rule, ...extra },
    cause,
  );
}
