import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { MAX_PEM_INPUT_BYTES, MeshlessError } from '@meshless/core';
import type { MaterialFiles } from './layouts.js';

/**
 * The bytes of the three files and a hash over all of them. Equal hashes mean the files hold what
 * they held before, so nothing needs to be parsed again.
 *
 * @example
 * ```ts
 * const contents: FileContents = await readMaterialFiles(files);
 * if (contents.hash === lastHash) return; // unchanged
 * ```
 */
export interface FileContents {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** SHA-256 over the three files' bytes. */
  readonly hash: string;
}

const INPUTS = ['cert', 'key', 'ca'] as const;

// O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; it changes nothing for
// regular files. Windows has no such flag.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads the three files through the paths given (following symlinks, as the kubelet's `..data` link
 * needs). The first file that cannot be read, in the order cert, key, ca, is reported, so the same
 * problem always gives the same error.
 *
 * @throws MeshlessError `ERR_MESHLESS_FILE_UNREADABLE` with `file`, `input` and `errno` in its context,
 * or `ERR_MESHLESS_INPUT_TOO_LARGE`.
 * @example
 * ```ts
 * const contents = await readMaterialFiles({ cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' });
 * loadMaterial({ ...contents, files });
 * ```
 */
export async function readMaterialFiles(files: MaterialFiles): Promise<FileContents> {
  const results = await Promise.allSettled(INPUTS.map((input) => readOne(files[input], input)));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  const [cert, key, ca] = results.map((result) => (result as PromiseFulfilledResult<Buffer>).value) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  const hash = createHash('sha256');
  for (const bytes of [cert, key, ca]) hash.update(String(bytes.byteLength)).update(':').update(bytes);
  return { cert, key, ca, hash: hash.digest('hex') };
}

async function readOne(file: string, input: string): Promise<Buffer> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, OPEN_FLAGS);
    const stats = await handle.stat();
    if (stats.isDirectory())
      throw Object.assign(new Error('illegal operation on a directory'), { code: 'EISDIR' });
    if (!stats.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    // A limit before reading: a path pointed at a huge file must not cost the memory to hold it.
    if (stats.size > MAX_PEM_INPUT_BYTES) throw tooLarge(file, input, stats.size);
    const bytes = await handle.readFile();
    if (bytes.byteLength > MAX_PEM_INPUT_BYTES) throw tooLarge(file, input, bytes.byteLength);
    return bytes;
  } catch (cause) {
    if (cause instanceof MeshlessError) throw cause;
    throw unreadable(file, input, cause as NodeJS.ErrnoException);
  } finally {
    await handle?.close().catch(() => {});
  }
}

function unreadable(file: string, input: string, cause: NodeJS.ErrnoException): MeshlessError {
  const errno = typeof cause.code === 'string' ? cause.code : undefined;
  // Node's messages read "ENOENT: no such file or directory, open '/path'": keep only the reason.
  const reason = /^[A-Z0-9]+: ([^,]+)/.exec(cause.message)?.[1] ?? cause.message;
  return new MeshlessError(
    'ERR_MESHLESS_FILE_UNREADABLE',
    `${input} file ${file} cannot be read: ${reason}${errno ? ` (${errno})` : ''}`,
    { input, file, ...(errno ? { errno } : {}), ...(cause.syscall ? { syscall: cause.syscall } : {}) },
    cause,
  );
}

function tooLarge(file: string, input: string, size: number): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_INPUT_TOO_LARGE',
    `${input} file ${file} is ${size} bytes, more than the ${MAX_PEM_INPUT_BYTES} bytes a PEM input may have`,
    { input, file, actual: String(size) },
  );
}
