// The fields meshless reads from a certificate, computed two ways for the differential tests: by
// core's own bounded DER reader (what the request path runs) and by @peculiar/x509 (the ASN.1
// framework it replaced there). Both views are plain data, so `toEqual` compares every field.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { readCertificate } from '../../packages/core/src/der/certificate.js';
import { x509 } from './x509.js';

export interface CertificateView {
  serialNumber: string;
  issuer: string;
  subject: string;
  notBefore: number;
  notAfter: number;
  signatureOid: string;
  signatureHash: string | undefined;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emails: string[];
  directoryNames: string[];
  registeredIds: string[];
  isCa: boolean | undefined;
  pathLength: number | undefined;
  keyUsage: number | undefined;
}

/** The view through core's DER reader. Throws what the reader throws. */
export function readerView(der: Uint8Array): CertificateView {
  const fields = readCertificate(der);
  const { subjectAltNames: names, ...rest } = fields;
  return {
    ...rest,
    notBefore: fields.notBefore.getTime(),
    notAfter: fields.notAfter.getTime(),
    ...names,
  };
}

/** The view through @peculiar/x509, reading every field eagerly (it decodes extensions lazily). */
export function peculiarView(der: Uint8Array): CertificateView {
  const cert = new x509.X509Certificate(der);
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const ofType = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  return {
    serialNumber: cert.serialNumber.toUpperCase(),
    issuer: cert.issuer,
    subject: cert.subject,
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    signatureOid: AsnConvert.parse(der, Certificate).signatureAlgorithm.algorithm,
    signatureHash: hashOf(cert),
    dnsNames: ofType('dns'),
    ipAddresses: ofType('ip'),
    uris: ofType('url'),
    emails: ofType('email'),
    directoryNames: ofType('dn'),
    registeredIds: ofType('id'),
    isCa: basic ? basic.ca : undefined,
    pathLength: basic ? basic.pathLength : undefined,
    keyUsage: usage ? usage.usages : undefined,
  };
}

function hashOf(cert: x509.X509Certificate): string | undefined {
  try {
    return (cert.signatureAlgorithm as { hash?: { name?: string } }).hash?.name;
  } catch {
    return undefined;
  }
}

/** What a reader made of some bytes: its view, or the code (or class) of what it threw. */
export type Outcome = { ok: CertificateView } | { refused: string };

/** Runs a reader and captures its outcome, so a table can compare refusals too. */
export function outcomeOf(read: (der: Uint8Array) => CertificateView, der: Uint8Array): Outcome {
  try {
    return { ok: read(der) };
  } catch (error) {
    return { refused: (error as { code?: string }).code ?? (error as Error).constructor.name };
  }
}

/** The DER of every CERTIFICATE block in PEM text. */
export function certificateDers(pem: string | Buffer): Buffer[] {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => Buffer.from(block.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}
