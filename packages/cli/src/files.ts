import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MeshlessError } from '@meshless/core';
import { writeFileAtomic } from '@meshless/pki';

/** The most bytes read from stdin: more than any PEM bundle, little enough to never exhaust memory. */
const MAX_STDIN_BYTES = 8 * 1024 * 1024;

/**
 * Reads a file the user named, or stdin for `-`. A missing or unreadable file is a
 * `MeshlessError` with code `ERR_MESHLESS_FILE_UNREADABLE` and the operating system's reason, so the
 * command prints one clear line instead of a stack trace.
 *
 * @example
 * ```ts
 * const pem = await readInput(file, 'cert', io.stdin);
 * ```
 */
export async function readInput(path: string, input: string, stdin?: NodeJS.ReadableStream): Promise<Buffer> {
  if (path === '-') {
    if (!stdin) throw new TypeError(`${input}: stdin ("-") cannot be used here`);
    return await readStdin(stdin);
  }
  try {
    return await readFile(path);
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code ?? 'EIO';
    throw new MeshlessError(
      'ERR_MESHLESS_FILE_UNREADABLE',
      `cannot read ${input} file ${path}: ${reasonOf(errno)}`,
      { input, file: path, errno },
      cause,
    );
  }
}

function reasonOf(errno: string): string {
  switch (errno) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return errno;
  }
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.byteLength;
    if (size > MAX_STDIN_BYTES) {
      throw new MeshlessError(
        'ERR_MESHLESS_INPUT_TOO_LARGE',
        `stdin holds more than ${MAX_STDIN_BYTES} bytes; a PEM input is far smaller`,
        { input: 'stdin' },
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Writes a file atomically with `mode` from its first byte: a temporary file in the same directory
 * (created with the mode, so a key is never readable by others, even briefly), then a rename over
 * the target. The directory is created when missing.
 *
 * @example
 * ```ts
 * await writeFileWithMode('certs/tls.key', keyPem, 0o600);
 * ```
 */
export async function writeFileWithMode(path: string, data: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data, mode);
}
