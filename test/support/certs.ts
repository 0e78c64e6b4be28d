// Test-time certificate factory. Unlike @meshless/pki it will happily make broken certificates,
// so each rejection test can build exactly the defect it is named after.
import { randomBytes, webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

export type KeyKind = 'ec-p256' | 'ec-p384' | 'rsa-1024' | 'rsa-2048' | 'ed25519';

export interface TestKeyPair {
  kind: KeyKind;
  keys: CryptoKeyPair;
  keyPem: string;
  algorithm: Algorithm | EcdsaParams | RsaHashedImportParams;
}

export interface TestCert {
  cert: x509.X509Certificate;
  certPem: string;
  keyPem: string;
  key: TestKeyPair;
  subject: string;
}

export interface TestCa extends TestCert {
  /** The chain a leaf issued by this CA should present after itself: intermediates, not the root. */
  chainPem: string;
  rootPem: string;
}

export interface CertSpec {
  subject?: string;
  key?: KeyKind;
  uris?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** basicConstraints CA flag; `null` leaves the extension out. */
  isCa?: boolean | null;
  /** Key usage bits; `null` leaves the extension out. */
  keyUsage?: number | null;
  notBefore?: Date;
  notAfter?: Date;
  /** Signature hash; SHA-1 makes a weakly signed certificate. */
  hash?: 'SHA-256' | 'SHA-384' | 'SHA-1';
  serialNumber?: string;
  /** Marks the subjectAltName extension critical (as for a certificate with an empty subject). */
  sanCritical?: boolean;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type RsaHashedImportParams = webcrypto.RsaHashedImportParams;

const DAY = 24 * 60 * 60 * 1000;
const { digitalSignature, keyEncipherment, keyCertSign, cRLSign } = x509.KeyUsageFlags;

/** Generates a key pair of the given kind and its PKCS#8 PEM. */
export async function makeKey(kind: KeyKind = 'ec-p256', hash: string = 'SHA-256'): Promise<TestKeyPair> {
  const algorithm = keyAlgorithm(kind, hash);
  const keys = (await webcrypto.subtle.generateKey(algorithm as never, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { kind, keys, algorithm, keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n` };
}

function keyAlgorithm(kind: KeyKind, hash: string): Algorithm | EcdsaParams | RsaHashedImportParams {
  switch (kind) {
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256', hash } as EcdsaParams;
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384', hash } as EcdsaParams;
    case 'rsa-1024':
    case 'rsa-2048':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: kind === 'rsa-1024' ? 1024 : 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash,
      } as unknown as RsaHashedImportParams;
    case 'ed25519':
      return { name: 'Ed25519' };
  }
}

function signingAlgorithm(key: TestKeyPair, hash: string): Algorithm | EcdsaParams {
  if (key.kind === 'ed25519') return { name: 'Ed25519' };
  if (key.kind.startsWith('ec')) return { name: 'ECDSA', hash } as EcdsaParams;
  return { name: 'RSASSA-PKCS1-v1_5', hash } as Algorithm;
}

async function build(
  spec: CertSpec,
  subjectKey: TestKeyPair,
  issuer: TestCert | undefined,
): Promise<TestCert> {
  const subject = spec.subject ?? 'CN=test';
  const now = Date.now();
  const extensions: x509.Extension[] = [];
  if (spec.isCa !== null)
    extensions.push(new x509.BasicConstraintsExtension(spec.isCa ?? false, undefined, true));
  if (spec.keyUsage !== null && spec.keyUsage !== undefined)
    extensions.push(new x509.KeyUsagesExtension(spec.keyUsage, true));
  const names: x509.JsonGeneralName[] = [
    ...(spec.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0)
    extensions.push(new x509.SubjectAlternativeNameExtension(names, spec.sanCritical ?? false));
  if (spec.isCa !== true) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(subjectKey.keys.publicKey));
  const signer = issuer?.key ?? subjectKey;
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.key.keys.publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: spec.serialNumber ?? `01${randomBytes(15).toString('hex')}`,
    subject,
    issuer: issuer?.cert.subject ?? subject,
    notBefore: spec.notBefore ?? new Date(now - 60_000),
    notAfter: spec.notAfter ?? new Date(now + DAY),
    publicKey: subjectKey.keys.publicKey,
    signingKey: signer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(signer, spec.hash ?? 'SHA-256'),
    extensions,
  });
  return { cert, certPem: `${cert.toString('pem')}\n`, keyPem: subjectKey.keyPem, key: subjectKey, subject };
}

/** A self-signed root CA. */
export async function makeRoot(spec: CertSpec & { trustDomain?: string } = {}): Promise<TestCa> {
  const key = await makeKey(spec.key ?? 'ec-p256', spec.hash === 'SHA-1' ? 'SHA-1' : 'SHA-256');
  const trustDomain = spec.trustDomain ?? 'example.org';
  const root = await build(
    {
      subject: `CN=${trustDomain} test root`,
      isCa: true,
      keyUsage: keyCertSign | cRLSign | digitalSignature,
      uris: [`spiffe://${trustDomain}`],
      notAfter: new Date(Date.now() + 30 * DAY),
      ...spec,
    },
    key,
    undefined,
  );
  return { ...root, chainPem: '', rootPem: root.certPem };
}

/** An intermediate CA signed by `parent`. */
export async function makeIntermediate(parent: TestCa, spec: CertSpec = {}): Promise<TestCa> {
  const key = await makeKey(spec.key ?? 'ec-p256');
  const cert = await build(
    {
      subject: 'CN=test intermediate',
      isCa: true,
      keyUsage: keyCertSign | cRLSign | digitalSignature,
      notAfter: new Date(Date.now() + 20 * DAY),
      ...spec,
    },
    key,
    parent,
  );
  return { ...cert, chainPem: cert.certPem + parent.chainPem, rootPem: parent.rootPem };
}

/** A leaf certificate signed by `issuer`; a valid X509-SVID unless the spec says otherwise. */
export async function makeLeaf(
  issuer: TestCa,
  spec: CertSpec = {},
): Promise<TestCert & { chainPem: string; caPem: string }> {
  const key = await makeKey(spec.key ?? 'ec-p256');
  const usage = spec.key?.startsWith('rsa') ? digitalSignature | keyEncipherment : digitalSignature;
  const cert = await build(
    {
      subject: 'CN=workload',
      isCa: false,
      keyUsage: usage,
      uris: ['spiffe://example.org/ns/default/sa/workload'],
      ...spec,
    },
    key,
    issuer,
  );
  return { ...cert, chainPem: cert.certPem + issuer.chainPem, caPem: issuer.rootPem };
}

/** Material input for loadMaterial from a leaf made by {@link makeLeaf}. */
export function materialOf(leaf: { chainPem: string; keyPem: string; caPem: string }): {
  cert: string;
  key: string;
  ca: string;
} {
  return { cert: leaf.chainPem, key: leaf.keyPem, ca: leaf.caPem };
}

export const keyUsage = x509.KeyUsageFlags;
