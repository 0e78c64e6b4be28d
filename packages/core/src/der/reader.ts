import { MeshlessError } from '../errors.js';

/**
 * One DER element (tag, length, value) located in a buffer: the value is `der[start, end)`.
 * Elements are only ever read by position, never copied, so a large input costs no allocation.
 */
export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number in one byte). */
  readonly tag: number;
  /** Where the element's identifier octet is. */
  readonly offset: number;
  readonly start: number;
  readonly end: number;
  /** How many constructed elements enclose this one: the reader refuses to go deeper than {@link MAX_DER_DEPTH}. */
  readonly depth: number;
}

/**
 * The deepest nesting the certificate reader follows. X.509 needs 11 (certificate, tbs, extensions
 * wrapper, extensions, extension, value, general names, directoryName, name, RDN, attribute, value);
 * anything deeper is refused before it is read.
 *
 * @example
 * ```ts
 * MAX_DER_DEPTH; // 16
 * ```
 */
export const MAX_DER_DEPTH = 16;

/**
 * The most elements one constructed value may hold (RDNs in a name, extensions, SAN entries):
 * far above any real certificate, and a bound on the work one hostile input can cause.
 *
 * @example
 * ```ts
 * MAX_DER_CHILDREN; // 1024
 * ```
 */
export const MAX_DER_CHILDREN = 1024;

/** DER tags the certificate reader uses (universal class unless the name says otherwise). */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/**
 * A DER defect, as a MeshlessError with the code a certificate that is not valid X.509 DER has
 * always had (`ERR_MESHLESS_PEM_INVALID`); `context.rule` is `der` and `context.offset` the byte.
 *
 * @example
 * ```ts
 * throw derError('a length runs past the end of its container', 12);
 * ```
 */
export function derError(why: string, offset: number): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_PEM_INVALID',
    `the certificate is not valid X.509 DER: ${why} (byte ${offset})`,
    {
      rule: 'der',
      offset,
    },
  );
}

/**
 * Reads the element that starts at `offset` and must end by `limit`. Only DER is accepted: a
 * low tag number (one identifier octet), a definite length in its shortest form, at most 4 length
 * octets. Never recurses.
 *
 * @example
 * ```ts
 * const certificate = readElement(der, 0, der.length, 0);
 * ```
 */
export function readElement(der: Uint8Array, offset: number, limit: number, depth: number): DerElement {
  if (depth > MAX_DER_DEPTH) throw derError(`nesting deeper than ${MAX_DER_DEPTH}`, offset);
  if (offset + 2 > limit) throw derError('an element is truncated', offset);
  const tag = der[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw derError('a high tag number is not used by X.509', offset);
  const first = der[offset + 1] as number;
  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0) throw derError('an indefinite length is BER, not DER', offset);
    if (count > 4) throw derError('a length has more than 4 octets', offset);
    if (start + count > limit) throw derError('a length is truncated', offset);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] as number);
    if (der[start] === 0 || length < 0x80) throw derError('a length is not in its shortest form', offset);
    start += count;
  }
  if (length > limit - start) throw derError('a length runs past the end of its container', offset);
  return { tag, offset, start, end: start + length, depth };
}

/**
 * The elements a constructed element holds, in order; they must fill it exactly. At most
 * {@link MAX_DER_CHILDREN}.
 *
 * @example
 * ```ts
 * const [tbs, signatureAlgorithm, signature] = readChildren(der, certificate);
 * ```
 */
export function readChildren(der: Uint8Array, parent: DerElement): DerElement[] {
  if (!(parent.tag & 0x20))
    throw derError('a primitive element where a constructed one belongs', parent.start);
  const children: DerElement[] = [];
  let offset = parent.start;
  while (offset < parent.end) {
    if (children.length === MAX_DER_CHILDREN)
      throw derError(`more than ${MAX_DER_CHILDREN} elements in one value`, offset);
    const child = readElement(der, offset, parent.end, parent.depth + 1);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/**
 * Reads the one element that fills `[start, end)` exactly (an OCTET STRING's content, a whole
 * certificate), refusing trailing bytes.
 *
 * @example
 * ```ts
 * const names = readWhole(der, extnValue.start, extnValue.end, extnValue.depth + 1);
 * ```
 */
export function readWhole(der: Uint8Array, start: number, end: number, depth: number): DerElement {
  const element = readElement(der, start, end, depth);
  if (element.end !== end) throw derError('bytes follow the value', element.end);
  return element;
}

/**
 * Throws unless `element` has the tag `tag`; `what` names the field in the message.
 *
 * @example
 * ```ts
 * expectTag(serial, Tag.integer, 'serialNumber');
 * ```
 */
export function expectTag(
  element: DerElement | undefined,
  tag: number,
  what: string,
  at: number,
): DerElement {
  if (!element) throw derError(`${what} is missing`, at);
  if (element.tag !== tag)
    throw derError(
      `${what} has tag 0x${element.tag.toString(16)}, expected 0x${tag.toString(16)}`,
      element.start,
    );
  return element;
}

/**
 * The content octets of an element (a view, not a copy).
 *
 * @example
 * ```ts
 * contentOf(der, serial); // Uint8Array [0x01, 0x23]
 * ```
 */
export function contentOf(der: Uint8Array, element: DerElement): Uint8Array {
  return der.subarray(element.start, element.end);
}
