import { formatName } from './distinguished-name.js';
import { readSubjectAltNames, type SubjectAltNames } from './general-names.js';
import {
  readBitFlags,
  readBoolean,
  readIntegerBytes,
  readOid,
  readSmallInteger,
  readTime,
} from './primitives.js';
import { type DerElement, derError, expectTag, readChildren, readWhole, Tag } from './reader.js';
import { signatureHashOf } from './signature-hash.js';

/**
 * The largest certificate the reader accepts, in bytes: real ones are a few kilobytes.
 *
 * @example
 * ```ts
 * MAX_CERTIFICATE_BYTES; // 262144
 * ```
 */
export const MAX_CERTIFICATE_BYTES = 256 * 1024;

const SUBJECT_ALT_NAME = '2.5.29.17';
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';

/** The fields of an X.509 certificate that meshless's identity and policy checks use. */
export interface CertificateFields {
  /** Hexadecimal, upper-case, without the sign octet a positive serial may carry. */
  serialNumber: string;
  issuer: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  signatureOid: string;
  signatureHash: string | undefined;
  subjectAltNames: SubjectAltNames;
  /** basicConstraints cA, or `undefined` when the extension is absent. */
  isCa: boolean | undefined;
  /** basicConstraints pathLenConstraint, or `undefined` when absent. */
  pathLength: number | undefined;
  /** Key usage flags (1 digitalSignature ... 32 keyCertSign, 64 cRLSign), or `undefined` when absent. */
  keyUsage: number | undefined;
}

/**
 * Reads a DER certificate's identity and policy fields with meshless's own bounded DER reader,
 * so the request path never loads an ASN.1 framework. Refuses anything that is not strict DER of
 * an X.509 certificate, and duplicate extensions, with `ERR_MESHLESS_PEM_INVALID`
 * (`context.rule` `der`). It does not verify the signature: OpenSSL does that.
 *
 * @example
 * ```ts
 * const fields = readCertificate(socket.getPeerX509Certificate()!.raw);
 * fields.subjectAltNames.uris; // ['spiffe://example.org/ns/prod/sa/web']
 * ```
 */
export function readCertificate(der: Uint8Array): CertificateFields {
  if (der.length > MAX_CERTIFICATE_BYTES)
    throw derError(`the certificate is larger than ${MAX_CERTIFICATE_BYTES} bytes`, 0);
  const certificate = readWhole(der, 0, der.length, 0);
  expectTag(certificate, Tag.sequence, 'the Certificate', 0);
  const [tbs, signatureAlgorithm, signatureValue, extra] = readChildren(der, certificate);
  expectTag(tbs, Tag.sequence, 'tbsCertificate', certificate.start);
  expectTag(signatureValue, Tag.bitString, 'signatureValue', certificate.start);
  if (extra) throw derError('the Certificate has more than three fields', extra.offset);
  const signature = signatureHashOf(der, signatureAlgorithm as DerElement);
  return { ...readTbs(der, tbs as DerElement), signatureOid: signature.oid, signatureHash: signature.hash };
}

function readTbs(
  der: Uint8Array,
  tbs: DerElement,
): Omit<CertificateFields, 'signatureOid' | 'signatureHash'> {
  const fields = readChildren(der, tbs);
  let at = 0;
  if (fields[0]?.tag === 0xa0) at++; // version [0] EXPLICIT: v3 when extensions follow
  const serial = expectTag(fields[at++], Tag.integer, 'serialNumber', tbs.start);
  expectTag(fields[at++], Tag.sequence, 'the tbs signature AlgorithmIdentifier', tbs.start);
  const issuer = fields[at++];
  const validity = expectTag(fields[at++], Tag.sequence, 'validity', tbs.start);
  const subject = fields[at++];
  expectTag(fields[at++], Tag.sequence, 'subjectPublicKeyInfo', tbs.start);
  if (fields[at]?.tag === 0x81) at++; // issuerUniqueID
  if (fields[at]?.tag === 0x82) at++; // subjectUniqueID
  const extensions = fields[at]?.tag === 0xa3 ? fields[at++] : undefined;
  if (at !== fields.length)
    throw derError('tbsCertificate has an unexpected field', (fields[at] as DerElement).offset);
  const [notBefore, notAfter] = readValidity(der, validity);
  return {
    serialNumber: serialHex(readIntegerBytes(der, serial)),
    issuer: formatName(der, requireElement(issuer, 'issuer', tbs)),
    subject: formatName(der, requireElement(subject, 'subject', tbs)),
    notBefore,
    notAfter,
    ...readExtensions(der, extensions),
  };
}

function requireElement(element: DerElement | undefined, what: string, parent: DerElement): DerElement {
  if (!element) throw derError(`${what} is missing`, parent.start);
  return element;
}

function readValidity(der: Uint8Array, validity: DerElement): [Date, Date] {
  const times = readChildren(der, validity);
  if (times.length !== 2) throw derError('validity does not hold two times', validity.start);
  return times.map((time) => {
    if (time.tag !== Tag.utcTime && time.tag !== Tag.generalizedTime)
      throw derError('a validity time is neither UTCTime nor GeneralizedTime', time.offset);
    return readTime(der, time);
  }) as [Date, Date];
}

// As @peculiar/x509 prints serials: one leading zero octet dropped when it only carries the sign.
function serialHex(bytes: Uint8Array): string {
  const digits =
    bytes.length > 1 && bytes[0] === 0 && (bytes[1] as number) > 0x7f ? bytes.subarray(1) : bytes;
  return Buffer.from(digits.buffer, digits.byteOffset, digits.byteLength).toString('hex').toUpperCase();
}

type ExtensionFields = Pick<CertificateFields, 'subjectAltNames' | 'isCa' | 'pathLength' | 'keyUsage'>;

function readExtensions(der: Uint8Array, wrapper: DerElement | undefined): ExtensionFields {
  const result: ExtensionFields = {
    subjectAltNames: {
      dnsNames: [],
      ipAddresses: [],
      uris: [],
      emails: [],
      directoryNames: [],
      registeredIds: [],
    },
    isCa: undefined,
    pathLength: undefined,
    keyUsage: undefined,
  };
  if (!wrapper) return result;
  const list = readWhole(der, wrapper.start, wrapper.end, wrapper.depth + 1);
  expectTag(list, Tag.sequence, 'Extensions', wrapper.start);
  const seen = new Set<string>();
  for (const extension of readChildren(der, list)) {
    const { oid, value } = readExtension(der, extension);
    // RFC 5280 4.2: one instance per extension. Two SAN extensions could hide an identity.
    if (seen.has(oid)) throw derError(`the extension ${oid} appears twice`, extension.offset);
    seen.add(oid);
    if (oid === SUBJECT_ALT_NAME) result.subjectAltNames = readSubjectAltNames(der, value);
    else if (oid === BASIC_CONSTRAINTS) Object.assign(result, readBasicConstraints(der, value));
    else if (oid === KEY_USAGE) result.keyUsage = readKeyUsage(der, value);
  }
  return result;
}

function readExtension(der: Uint8Array, extension: DerElement): { oid: string; value: DerElement } {
  expectTag(extension, Tag.sequence, 'an Extension', extension.offset);
  const parts = readChildren(der, extension);
  const oid = readOid(der, expectTag(parts[0], Tag.oid, 'an extension id', extension.start));
  const hasCritical = parts[1]?.tag === Tag.boolean;
  if (hasCritical) readBoolean(der, parts[1] as DerElement);
  const value = expectTag(parts[hasCritical ? 2 : 1], Tag.octetString, 'an extension value', extension.start);
  if (parts.length !== (hasCritical ? 3 : 2))
    throw derError('an Extension has an unexpected field', extension.start);
  return { oid, value };
}

function readBasicConstraints(
  der: Uint8Array,
  value: DerElement,
): Pick<CertificateFields, 'isCa' | 'pathLength'> {
  const sequence = readWhole(der, value.start, value.end, value.depth + 1);
  expectTag(sequence, Tag.sequence, 'BasicConstraints', value.start);
  const parts = readChildren(der, sequence);
  let at = 0;
  const isCa = parts[0]?.tag === Tag.boolean ? readBoolean(der, parts[at++] as DerElement) : false;
  const pathLength =
    parts[at]?.tag === Tag.integer ? readSmallInteger(der, parts[at++] as DerElement) : undefined;
  if (at !== parts.length) throw derError('BasicConstraints has an unexpected field', value.start);
  return { isCa, pathLength };
}

function readKeyUsage(der: Uint8Array, value: DerElement): number {
  const bits = readWhole(der, value.start, value.end, value.depth + 1);
  return readBitFlags(der, expectTag(bits, Tag.bitString, 'KeyUsage', value.start));
}
