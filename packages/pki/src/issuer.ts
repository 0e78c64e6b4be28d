import type { webcrypto } from 'node:crypto';
import type { TrustDomain } from '@meshless/core';
import type * as x509 from '@peculiar/x509';
import type { Validity } from './lifetime.js';
import { randomSerialNumber } from './profile.js';
import { loadedX509 } from './x509.js';

/** Everything needed to sign with a CA: its certificate, key and place in the chain. */
export interface Issuer {
  readonly cert: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
  /** The CA's subject key identifier (hex): the authority key identifier of what it signs. */
  readonly keyId: string;
  readonly trustDomain: TrustDomain;
  /** This CA's certificate followed by the intermediates above it, without the root. */
  readonly chainPem: string;
  /** The root certificate: the trust bundle. */
  readonly rootPem: string;
  readonly isRoot: boolean;
}

/** What to sign: a subject, a public key (SubjectPublicKeyInfo DER), a window and extensions. */
export interface ToBeSigned {
  subject: x509.JsonName;
  publicKey: Uint8Array;
  validity: Validity;
  extensions: x509.Extension[];
}

/** Signs a certificate with the issuer's key (SHA-256, or Ed25519 for an Ed25519 CA) and a random serial. */
export function signCertificate(issuer: Issuer, tbs: ToBeSigned): Promise<x509.X509Certificate> {
  return loadedX509().X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: tbs.subject,
    issuer: issuer.cert.subjectName,
    notBefore: tbs.validity.notBefore,
    notAfter: tbs.validity.notAfter,
    publicKey: tbs.publicKey,
    // The algorithm comes from the key; the hash defaults to SHA-256 (Ed25519 ignores it).
    signingKey: issuer.signingKey,
    extensions: tbs.extensions,
  });
}

/** The key identifier of a CA certificate: its SKI extension, or one computed from its public key. */
export async function keyIdOf(cert: x509.X509Certificate): Promise<string> {
  const ski = cert.getExtension(loadedX509().SubjectKeyIdentifierExtension);
  if (ski) return ski.keyId;
  return Buffer.from(await cert.publicKey.getKeyIdentifier()).toString('hex');
}

/** A certificate as PEM with a trailing newline. */
export function pemOf(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
}

/** The serial number as upper-case hex, as `identityFromCertificate` reports it. */
export function serialOf(cert: x509.X509Certificate): string {
  return cert.serialNumber.toUpperCase();
}
