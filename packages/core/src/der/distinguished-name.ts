import { latin1, readOid } from './primitives.js';
import { type DerElement, derError, expectTag, readChildren, Tag } from './reader.js';

// Short names for attribute types, the ones @peculiar/x509 prints (and in its spelling), so a
// subject reads the same whichever reader produced it.
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '2.5.4.4': 'SN',
  '2.5.4.12': 'T',
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A Name (issuer, subject, directoryName SAN) as text: RDNs in certificate order joined by `, `,
 * multi-valued RDNs by `+`, values escaped as RFC 4514 asks, string types decoded and any other
 * value as `#` and the hex of its DER, exactly as @peculiar/x509's `Name.toString()`.
 *
 * @example
 * ```ts
 * formatName(der, subject); // 'CN=web, O=Example'
 * ```
 */
export function formatName(der: Uint8Array, name: DerElement): string {
  expectTag(name, Tag.sequence, 'a Name', name.start);
  return readChildren(der, name)
    .map((rdn) => {
      expectTag(rdn, Tag.set, 'a RelativeDistinguishedName', rdn.start);
      const attributes = readChildren(der, rdn);
      if (attributes.length === 0) throw derError('a RelativeDistinguishedName is empty', rdn.start);
      return attributes.map((attribute) => formatAttribute(der, attribute)).join('+');
    })
    .join(', ');
}

function formatAttribute(der: Uint8Array, attribute: DerElement): string {
  expectTag(attribute, Tag.sequence, 'an AttributeTypeAndValue', attribute.start);
  const [type, value, extra] = readChildren(der, attribute);
  const oid = readOid(der, expectTag(type, Tag.oid, 'an attribute type', attribute.start));
  if (!value || extra)
    throw derError('an AttributeTypeAndValue does not hold one type and one value', attribute.start);
  const text = decodeString(der, value);
  const shown = text === undefined ? `#${hex(der, value)}` : escapeValue(text);
  return `${SHORT_NAMES[oid] ?? oid}=${shown}`;
}

// The string types a DirectoryString (or IA5String) may hold; undefined for any other tag.
function decodeString(der: Uint8Array, value: DerElement): string | undefined {
  const bytes = der.subarray(value.start, value.end);
  switch (value.tag) {
    case 0x0c: // UTF8String
      try {
        return UTF8.decode(bytes);
      } catch {
        throw derError('a UTF8String is not valid UTF-8', value.start);
      }
    case 0x13: // PrintableString
    case 0x14: // TeletexString
    case 0x16: // IA5String
      return latin1(der, value.start, value.end);
    case 0x1e: // BMPString: UTF-16, big-endian
      if (bytes.length % 2) throw derError('a BMPString has an odd length', value.start);
      return codeUnits(bytes, 2);
    case 0x1c: // UniversalString: UCS-4, big-endian, one code unit each as asn1js reads it
      if (bytes.length % 4) throw derError('a UniversalString length is not a multiple of 4', value.start);
      return codeUnits(bytes, 4);
    default:
      return undefined;
  }
}

function codeUnits(bytes: Uint8Array, width: number): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += width) {
    let unit = 0;
    for (let j = 0; j < width; j++) unit = unit * 256 + (bytes[i + j] as number);
    text += String.fromCharCode(unit);
  }
  return text;
}

// RFC 4514 escaping as @peculiar/x509 does it (including its escaping only the first control
// character), so both readers print the same subject.
function escapeValue(text: string): string {
  return text
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1')
    .replace(/([\r\n\t])/, (char) => `\\${Buffer.from(char, 'utf8').toString('hex').toUpperCase()}`);
}

// The whole element (tag, length and value) in lower-case hex.
function hex(der: Uint8Array, value: DerElement): string {
  return Buffer.from(der.buffer, der.byteOffset + value.offset, value.end - value.offset).toString('hex');
}
