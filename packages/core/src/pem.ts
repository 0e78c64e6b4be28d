import { MeshlessError } from './errors.js';
import { encodePemBlock, type RawPemBlock, readPemBlocks } from './pem-blocks.js';

/**
 * The most bytes one PEM input may hold: far above any real chain or bundle, far below a memory
 * problem. Larger inputs fail with `ERR_MESHLESS_INPUT_TOO_LARGE` before anything is parsed.
 *
 * @example
 * ```ts
 * if ((await stat(file)).size > MAX_PEM_INPUT_BYTES) throw new Error(`${file} is too large to be PEM`);
 * ```
 */
export const MAX_PEM_INPUT_BYTES = 4 * 1024 * 1024;

/** One decoded PEM block. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
  /** The block re-encoded canonically (LF line endings, 64-column base64). */
  pem: string;
  /** RFC 1421 headers such as `Proc-Type`, present on legacy encrypted keys. */
  headers: { key: string; value: string }[];
}

/** Input that can hold PEM text. */
export type PemInput = string | Uint8Array;

/**
 * Turns PEM text (string or bytes, LF or CRLF) into its blocks. Fails fast, with a code and the
 * input's name, on anything that is not PEM, so a 10 MB file of garbage costs a moment.
 *
 * @example
 * ```ts
 * const blocks = decodePem(readFileSync('tls.crt'), 'cert');
 * blocks.map((b) => b.label); // ['CERTIFICATE', 'CERTIFICATE']
 * ```
 */
export function decodePem(input: PemInput, inputName: string, file?: string): PemBlock[] {
  const context = { input: inputName, ...(file ? { file } : {}) };
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > MAX_PEM_INPUT_BYTES) {
    throw new MeshlessError(
      'ERR_MESHLESS_INPUT_TOO_LARGE',
      `${describe(inputName, file)} is ${size} bytes, more than the ${MAX_PEM_INPUT_BYTES} bytes a PEM input may have`,
      context,
    );
  }
  const text = (typeof input === 'string' ? input : Buffer.from(input).toString('latin1'))
    .replace(/\r\n?/g, '\n')
    // Files joined with `cat` when the first lacked a final newline: END and BEGIN share a line.
    .replace(/-----(?=-----BEGIN )/g, '-----\n');
  if (!/^-----BEGIN [A-Z0-9 ]+-----$/m.test(text)) {
    const hint =
      size === 0
        ? 'it is empty'
        : looksBinary(text)
          ? 'it looks binary (DER?), not PEM text'
          : 'no PEM block found';
    throw new MeshlessError(
      'ERR_MESHLESS_PEM_INVALID',
      `${describe(inputName, file)} is not PEM: ${hint}`,
      context,
    );
  }
  let structs: RawPemBlock[];
  try {
    structs = readPemBlocks(keepPemLines(text));
  } catch (cause) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEM_INVALID',
      `${describe(inputName, file)} has a malformed PEM block`,
      context,
      cause,
    );
  }
  const begins = text.match(/^-----BEGIN [A-Z0-9 ]+-----$/gm)?.length ?? 0;
  if (structs.length !== begins) {
    throw new MeshlessError(
      'ERR_MESHLESS_PEM_INVALID',
      `${describe(inputName, file)} has ${begins} BEGIN line(s) but only ${structs.length} complete PEM block(s): truncated or corrupt`,
      context,
    );
  }
  return structs.map((s) => {
    const der = s.der;
    if (der.byteLength === 0) {
      throw new MeshlessError(
        'ERR_MESHLESS_PEM_INVALID',
        `${describe(inputName, file)} has an empty ${s.label} block`,
        context,
      );
    }
    return {
      label: s.label,
      der,
      headers: s.headers,
      pem: `${encodePemBlock(der, s.label)}\n`,
    };
  });
}

/** `cert (tls.crt)` or `cert`, for messages. */
export function describe(inputName: string, file?: string): string {
  return file ? `${inputName} (${file})` : inputName;
}

// Keeps only the lines that can belong to PEM blocks, so the decoder's regular expression never
// scans long runs of unrelated text, and text between blocks (comments) is ignored.
function keepPemLines(text: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  let inside = false;
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed.startsWith('-----BEGIN ')) inside = true;
    if (inside) kept.push(trimmed);
    if (trimmed.startsWith('-----END ')) inside = false;
  }
  return `${kept.join('\n')}\n`;
}

function looksBinary(text: string): boolean {
  const sample = text.slice(0, 512);
  let control = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c < 9 || (c > 13 && c < 32) || c > 126) control++;
  }
  return control > sample.length / 10;
}
