import { isMeshlessError } from '@meshless/core';
import type { MaterialFiles } from './layouts.js';
import { readMaterialFiles } from './read-files.js';

// A path that leads nowhere: no such file, or a path through something that is not a directory.
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Fails at once when one of the files does not exist, with that file's own
 * `ERR_MESHLESS_FILE_UNREADABLE`: a wrong path is a mistake to report now, not after the whole
 * start-up timeout. Anything else (a file being written, a key not matching yet) is left to the
 * retries of start-up.
 *
 * @throws MeshlessError `ERR_MESHLESS_FILE_UNREADABLE` with `errno` `ENOENT` or `ENOTDIR`.
 * @example
 * ```ts
 * await rejectMissingFiles({ cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' });
 * ```
 */
export async function rejectMissingFiles(files: MaterialFiles): Promise<void> {
  try {
    await readMaterialFiles(files);
  } catch (error) {
    if (isMeshlessError(error, 'ERR_MESHLESS_FILE_UNREADABLE') && MISSING.has(String(error.context.errno))) {
      throw error;
    }
  }
}
