// The PEM grammar @peculiar/x509's PemConverter accepts (RFC 7468 blocks with optional RFC 1421
// headers), read line by line in linear time, so that reading PEM needs no ASN.1 framework and a
// huge unterminated block costs one pass. decodePem has already trimmed the lines.
const HEADER_LINE = /^[^:]+: .+$/;
const BASE64_LINE = /^[a-zA-Z0-9=+/]+$/;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** One PEM block as found in the text. */
export interface RawPemBlock {
  label: string;
  headers: { key: string; value: string }[];
  der: Uint8Array;
}

/**
 * Every complete PEM block in `text`, in order. Throws a plain Error for base64 that is not
 * canonical or a header line that continues nothing; `decodePem` turns it into a MeshlessError.
 *
 * @example
 * ```ts
 * readPemBlocks('-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n')[0].label; // 'CERTIFICATE'
 * ```
 */
export function readPemBlocks(text: string): RawPemBlock[] {
  const lines = text.split('\n');
  const blocks: RawPemBlock[] = [];
  let at = 0;
  while (at < lines.length) {
    const label = labelOf(lines[at] as string, 'BEGIN');
    if (label === undefined) {
      at++;
      continue;
    }
    const block = readBlock(lines, at + 1, label);
    if (block) blocks.push(block.block);
    at = block ? block.next : at + 1;
  }
  return blocks;
}

function labelOf(line: string, kind: 'BEGIN' | 'END'): string | undefined {
  const prefix = `-----${kind} `;
  if (!line.startsWith(prefix) || !line.endsWith('-----') || line.length <= prefix.length + 5)
    return undefined;
  return line.slice(prefix.length, -5);
}

// Headers, an optional blank line, base64 lines, then the END line of the same label; undefined
// when the block is not complete (decodePem then reports it as truncated or corrupt).
function readBlock(
  lines: string[],
  from: number,
  label: string,
): { block: RawPemBlock; next: number } | undefined {
  let at = from;
  const headerLines: string[] = [];
  while (at < lines.length && HEADER_LINE.test(lines[at] as string)) headerLines.push(lines[at++] as string);
  if (lines[at] === '') at++;
  const base64Lines: string[] = [];
  while (at < lines.length && BASE64_LINE.test(lines[at] as string)) base64Lines.push(lines[at++] as string);
  if (base64Lines.length === 0 || labelOf(lines[at] ?? '', 'END') !== label) return undefined;
  const base64 = base64Lines.join('');
  if (!STRICT_BASE64.test(base64)) throw new Error('a PEM block is not Base64 encoded');
  const block = {
    label,
    headers: readHeaders(headerLines),
    der: new Uint8Array(Buffer.from(base64, 'base64')),
  };
  return { block, next: at + 1 };
}

// `Key: value` lines, as RFC 1421 writes them (Proc-Type, DEK-Info).
function readHeaders(lines: string[]): { key: string; value: string }[] {
  return lines.map((line) => {
    const colon = line.indexOf(':');
    return { key: line.slice(0, colon), value: line.slice(colon + 1).trim() };
  });
}

/**
 * DER bytes as a PEM block: upper-case label, 64-column base64, LF line ends, no final newline.
 *
 * @example
 * ```ts
 * encodePemBlock(der, 'CERTIFICATE'); // '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----'
 * ```
 */
export function encodePemBlock(der: Uint8Array, label: string): string {
  const upper = label.toLocaleUpperCase();
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = [`-----BEGIN ${upper}-----`];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.substring(i, i + 64));
  lines.push(`-----END ${upper}-----`);
  return lines.join('\n');
}
