import { type DerElement, derError } from './reader.js';

/**
 * An OBJECT IDENTIFIER's content as dotted text (`2.5.29.17`). Arcs must be minimally encoded.
 *
 * @example
 * ```ts
 * readOid(der, element); // '1.2.840.10045.4.3.2'
 * ```
 */
export function readOid(der: Uint8Array, element: DerElement): string {
  if (element.end === element.start) throw derError('an OBJECT IDENTIFIER is empty', element.start);
  const arcs: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (let i = element.start; i < element.end; i++) {
    const byte = der[i] as number;
    if (fresh && byte === 0x80) throw derError('an OBJECT IDENTIFIER arc is not minimally encoded', i);
    value = (value << 7n) | BigInt(byte & 0x7f);
    fresh = !(byte & 0x80);
    if (fresh) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (!fresh) throw derError('an OBJECT IDENTIFIER ends inside an arc', element.end);
  const first = arcs[0] as bigint;
  const head = first < 40n ? `0.${first}` : first < 80n ? `1.${first - 40n}` : `2.${first - 80n}`;
  return [head, ...arcs.slice(1).map(String)].join('.');
}

/**
 * A DER BOOLEAN: one octet, 0x00 or 0xFF.
 *
 * @example
 * ```ts
 * readBoolean(der, element); // true
 * ```
 */
export function readBoolean(der: Uint8Array, element: DerElement): boolean {
  const value = der[element.start];
  if (element.end - element.start !== 1 || (value !== 0x00 && value !== 0xff))
    throw derError('a BOOLEAN is not one octet of 0x00 or 0xFF', element.start);
  return value === 0xff;
}

/**
 * Checks that an INTEGER's content is present and minimally encoded (as OpenSSL demands) and
 * returns its content octets.
 *
 * @example
 * ```ts
 * readIntegerBytes(der, serial); // Uint8Array [0x00, 0x9f, ...]
 * ```
 */
export function readIntegerBytes(der: Uint8Array, element: DerElement): Uint8Array {
  const length = element.end - element.start;
  if (length === 0) throw derError('an INTEGER is empty', element.start);
  const first = der[element.start] as number;
  const second = der[element.start + 1] as number;
  if (length > 1 && ((first === 0x00 && second < 0x80) || (first === 0xff && second >= 0x80)))
    throw derError('an INTEGER is not minimally encoded', element.start);
  return der.subarray(element.start, element.end);
}

/**
 * A small non-negative INTEGER (a path length, a version) as a number; larger values are refused.
 *
 * @example
 * ```ts
 * readSmallInteger(der, pathLen); // 0
 * ```
 */
export function readSmallInteger(der: Uint8Array, element: DerElement): number {
  const bytes = readIntegerBytes(der, element);
  if ((bytes[0] as number) & 0x80) throw derError('a negative INTEGER where a count belongs', element.start);
  if (bytes.length > 4) throw derError('an INTEGER too large for a count', element.start);
  let value = 0;
  for (const byte of bytes) value = value * 256 + byte;
  return value;
}

/**
 * A BIT STRING's bits as a number in @peculiar/x509's numbering (the first bit is 1, the second 2,
 * ...), as key usage flags are read. At most 4 content octets; unused bits must be zero.
 *
 * @example
 * ```ts
 * readBitFlags(der, keyUsage); // 33: digitalSignature | keyCertSign
 * ```
 */
export function readBitFlags(der: Uint8Array, element: DerElement): number {
  const length = element.end - element.start;
  if (length === 0) throw derError('a BIT STRING has no unused-bits octet', element.start);
  const unused = der[element.start] as number;
  if (unused > 7 || (length === 1 && unused !== 0))
    throw derError('a BIT STRING has an impossible count of unused bits', element.start);
  if (length > 5) throw derError('a BIT STRING of flags is longer than 4 octets', element.start);
  const last = der[element.end - 1] as number;
  if (length > 1 && last & ((1 << unused) - 1))
    throw derError('a BIT STRING has unused bits set', element.start);
  let flags = 0;
  let bit = 1;
  for (let i = element.start + 1; i < element.end; i++) {
    const byte = der[i] as number;
    for (let mask = 0x80; mask > 0; mask >>= 1) {
      if (byte & mask) flags += bit;
      bit *= 2;
    }
  }
  return flags;
}

/**
 * A UTCTime (`YYMMDDHHMMSSZ`, years 1950 to 2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) in the
 * only forms RFC 5280 allows.
 *
 * @example
 * ```ts
 * readTime(der, notAfter); // 2026-12-31T23:59:59.000Z
 * ```
 */
export function readTime(der: Uint8Array, element: DerElement): Date {
  const text = latin1(der, element.start, element.end);
  const utc = element.tag === 0x17;
  const match = (
    utc ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
  ).exec(text);
  if (!match) throw derError(`a ${utc ? 'UTCTime' : 'GeneralizedTime'} is not in DER form`, element.start);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fullYear = utc ? (year < 50 ? 2000 + year : 1900 + year) : year;
  const date = new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
  // Date.UTC rolls 31 February over into March: a round trip catches impossible dates.
  if (
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    throw derError('a time names an impossible date', element.start);
  if (fullYear < 100) date.setUTCFullYear(fullYear);
  return date;
}

/**
 * Bytes as a string of the same code units (each byte one character), as PrintableString,
 * TeletexString and IA5String are decoded.
 *
 * @example
 * ```ts
 * latin1(der, element.start, element.end); // 'example.org'
 * ```
 */
export function latin1(der: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(der[i] as number);
  return text;
}
