import { createPrivateKey } from 'node:crypto';

/**
 * Splits ASN.1 DER certificates that were concatenated (as the Workload API sends chains and
 * bundles) into one buffer each, by reading each outer SEQUENCE's length. Throws an Error on
 * anything that is not a run of complete SEQUENCEs.
 *
 * @example
 * ```ts
 * splitDer(Buffer.concat([leafDer, intermediateDer])).length; // 2
 * ```
 */
export function splitDer(bytes: Uint8Array): Buffer[] {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < input.length) {
    if (input[offset] !== 0x30) throw new Error(`expected a DER SEQUENCE at byte ${offset}`);
    const { length, header } = readLength(input, offset + 1);
    const end = offset + 1 + header + length;
    if (end > input.length) throw new Error(`the DER SEQUENCE at byte ${offset} is truncated`);
    parts.push(input.subarray(offset, end));
    offset = end;
  }
  return parts;
}

// DER lengths: one byte below 0x80, else 0x8N followed by N big-endian bytes (at most 4 here: a
// certificate over 4 GiB is not one).
function readLength(input: Buffer, at: number): { length: number; header: number } {
  const first = input[at];
  if (first === undefined) throw new Error('a DER length is missing');
  if (first < 0x80) return { length: first, header: 1 };
  const count = first & 0x7f;
  if (count === 0 || count > 4 || at + count >= input.length) throw new Error('a DER length is malformed');
  let length = 0;
  for (let i = 1; i <= count; i++) length = length * 256 + (input[at + i] as number);
  return { length, header: 1 + count };
}

/**
 * Concatenated DER certificates as PEM text, one CERTIFICATE block each, in the same order.
 *
 * @example
 * ```ts
 * const chainPem = derCertificatesToPem(svid.x509_svid); // leaf first, then intermediates
 * ```
 */
export function derCertificatesToPem(bytes: Uint8Array): string {
  return splitDer(bytes)
    .map((der) => pemBlock('CERTIFICATE', der))
    .join('');
}

/**
 * An unencrypted PKCS#8 DER private key as PEM. Throws when the bytes are not such a key.
 *
 * @example
 * ```ts
 * const keyPem = pkcs8DerToPem(svid.x509_svid_key);
 * ```
 */
export function pkcs8DerToPem(bytes: Uint8Array): string {
  // Parsed once here so that garbage fails with a clear message instead of deep in loadMaterial.
  createPrivateKey({ key: Buffer.from(bytes), format: 'der', type: 'pkcs8' });
  return pemBlock('PRIVATE KEY', Buffer.from(bytes));
}

function pemBlock(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}
