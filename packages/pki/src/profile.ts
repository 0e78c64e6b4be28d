import { randomBytes } from 'node:crypto';
import type { SpiffeId, TrustDomain } from '@meshless/core';
import type * as x509 from '@peculiar/x509';
import { loadX509 } from './x509.js';

// The X.520 upper bound for a common name.
const MAX_CN = 64;

/** What goes into a workload certificate (X509-SVID). */
export interface LeafProfile {
  spiffeId: SpiffeId;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** SubjectPublicKeyInfo DER of the workload's key. */
  publicKey: Uint8Array;
  /** RSA keys also get keyEncipherment (TLS 1.2 RSA key exchange). */
  rsa: boolean;
  /** The issuer's subject key identifier, as hex. */
  authorityKeyId: string;
}

/**
 * The X509-SVID leaf profile: keyUsage critical digitalSignature (+ keyEncipherment for RSA), EKU
 * serverAuth and clientAuth, basicConstraints critical CA:false, SAN with the SPIFFE ID first and
 * then the DNS and IP names, subject and authority key identifiers.
 */
export async function leafExtensions(profile: LeafProfile): Promise<x509.Extension[]> {
  const x509 = await loadX509();
  const usages = x509.KeyUsageFlags.digitalSignature | (profile.rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension(
      [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    new x509.SubjectAlternativeNameExtension(
      [
        { type: 'url', value: profile.spiffeId.toString() },
        ...profile.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...profile.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(profile.publicKey),
    new x509.AuthorityKeyIdentifierExtension(profile.authorityKeyId),
  ];
}

/**
 * The CA profile (root or intermediate): basicConstraints critical CA:true, keyUsage critical
 * keyCertSign, cRLSign and digitalSignature, a URI SAN with the trust domain's SPIFFE ID, and key
 * identifiers. A root's authority key identifier is its own.
 */
export async function caExtensions(
  trustDomain: TrustDomain,
  publicKey: Uint8Array,
  authorityKeyId?: string,
): Promise<{ extensions: x509.Extension[]; keyId: string }> {
  const x509 = await loadX509();
  const ski = await x509.SubjectKeyIdentifierExtension.create(publicKey);
  const usages =
    x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;
  const extensions = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: trustDomain.idString() }], false),
    ski,
    new x509.AuthorityKeyIdentifierExtension(authorityKeyId ?? ski.keyId),
  ];
  return { extensions, keyId: ski.keyId };
}

/** `CN=<last path segment>` (cut to 64 characters), for a workload certificate or CSR. */
export function leafSubject(spiffeId: SpiffeId): x509.JsonName {
  const segments = spiffeId.segments();
  return [{ CN: [(segments[segments.length - 1] ?? spiffeId.trustDomain.name).slice(0, MAX_CN)] }];
}

/** `O=meshless dev CA, CN=<td> root` or `CN=<td> intermediate <key id>`. */
export function caSubject(
  trustDomain: TrustDomain,
  role: 'root' | 'intermediate',
  keyId: string,
): x509.JsonName {
  const suffix = role === 'root' ? ' root' : ` intermediate ${keyId.slice(0, 8)}`;
  return [
    { O: ['meshless dev CA'] },
    { CN: [`${trustDomain.name.slice(0, MAX_CN - suffix.length)}${suffix}`] },
  ];
}

/**
 * A random, positive serial number of exactly 16 bytes, as hex: the top bit is clear (positive) and
 * the next one set (so DER keeps all 16 bytes), leaving 126 random bits.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x3f) | 0x40;
  return bytes.toString('hex');
}
