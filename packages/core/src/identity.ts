import { createHash, X509Certificate } from 'node:crypto';
import { readCertificate } from './der/certificate.js';
import { MeshlessError } from './errors.js';
import { LruCache } from './lru.js';
import { decodePem } from './pem.js';
import { parseSpiffeId, type SpiffeId } from './spiffe-id.js';

/**
 * Who a peer is, read once from its certificate. Frozen, and shared between connections that
 * present the same certificate.
 */
export interface PeerIdentity {
  /** The SPIFFE ID, when the certificate has exactly one URI SAN and it is a valid SPIFFE ID. */
  readonly spiffeId?: SpiffeId;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Every URI SAN, SPIFFE or not. */
  readonly uris: readonly string[];
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hexadecimal, as Node prints it. */
  readonly serialNumber: string;
  /** SHA-256 of the DER, upper-case hex pairs separated by colons, as Node's `fingerprint256`. */
  readonly fingerprint256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A certificate as DER bytes, PEM text, or a parsed `crypto.X509Certificate`. */
export type CertificateInput = Uint8Array | string | X509Certificate;

const cache = new LruCache<string, PeerIdentity>(1024);

/**
 * Reads a peer's identity from its certificate: SANs from the DER through meshless's own bounded
 * DER reader (never from Node's `subjectaltname` display string, and without an ASN.1 framework). Results are cached by SHA-256 fingerprint in a
 * bounded LRU, because the same peers reconnect all day.
 *
 * @throws MeshlessError `ERR_MESHLESS_PEM_INVALID` when the input is not a certificate.
 * @example
 * ```ts
 * const peer = identityFromCertificate(socket.getPeerX509Certificate()!);
 * peer.spiffeId?.toString(); // 'spiffe://example.org/ns/prod/sa/orders'
 * ```
 */
export function identityFromCertificate(cert: CertificateInput): PeerIdentity {
  // A TLS peer's certificate comes parsed, with the fingerprint Node computes natively (the same
  // format): for it the DER is copied out and parsed only the first time, not on every connection.
  const der = cert instanceof X509Certificate ? undefined : toDer(cert);
  const fingerprint256 = der ? fingerprintOf(der) : (cert as X509Certificate).fingerprint256;
  const cached = cache.get(fingerprint256);
  if (cached) return cached;
  const identity = parseIdentity(der ?? toDer(cert), fingerprint256);
  cache.set(fingerprint256, identity);
  return identity;
}

/**
 * SHA-256 fingerprint of DER bytes in Node's `fingerprint256` format (upper-case hex pairs joined by
 * colons), so it compares equal to `X509Certificate.fingerprint256`.
 *
 * @example
 * ```ts
 * fingerprintOf(new X509Certificate(pem).raw) === new X509Certificate(pem).fingerprint256; // true
 * ```
 */
export function fingerprintOf(der: Uint8Array): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.replace(/(..)(?!$)/g, '$1:');
}

function toDer(cert: CertificateInput): Uint8Array {
  if (cert instanceof X509Certificate) return cert.raw;
  if (typeof cert === 'string') {
    const block = decodePem(cert, 'certificate').find((b) => b.label === 'CERTIFICATE');
    if (!block)
      throw new MeshlessError('ERR_MESHLESS_PEM_INVALID', 'no CERTIFICATE block in the input', {
        input: 'certificate',
      });
    return block.der;
  }
  if (cert instanceof Uint8Array) return cert;
  throw new TypeError('identityFromCertificate expects DER bytes, PEM text or a crypto.X509Certificate');
}

function parseIdentity(der: Uint8Array, fingerprint256: string): PeerIdentity {
  let fields: ReturnType<typeof readCertificate>;
  try {
    fields = readCertificate(der);
  } catch (cause) {
    const context = { fingerprint: fingerprint256, ...(cause as MeshlessError).context };
    throw new MeshlessError('ERR_MESHLESS_PEM_INVALID', (cause as Error).message, context, cause);
  }
  const { uris, dnsNames, ipAddresses } = fields.subjectAltNames;
  const spiffeId = uris.length === 1 ? trySpiffeId(uris[0] as string) : undefined;
  const identity: PeerIdentity = {
    ...(spiffeId ? { spiffeId } : {}),
    dnsNames: Object.freeze(dnsNames),
    ipAddresses: Object.freeze(ipAddresses),
    uris: Object.freeze(uris),
    subject: fields.subject,
    issuer: fields.issuer,
    serialNumber: fields.serialNumber,
    fingerprint256,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
  };
  return Object.freeze(identity);
}

function trySpiffeId(uri: string): SpiffeId | undefined {
  if (!uri.startsWith('spiffe://')) return undefined;
  try {
    return parseSpiffeId(uri);
  } catch {
    return undefined;
  }
}
