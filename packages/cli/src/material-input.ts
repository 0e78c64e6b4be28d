import { isMeshlessError } from '@meshless/core';
import type { MaterialFile } from './checks/material.js';
import { readInput } from './files.js';

/**
 * Reads one material file for `verify`, `doctor` or `probe`, keeping a read failure as the file's
 * error instead of throwing, so the other checks still run and the failure gets its own mark.
 *
 * @example
 * ```ts
 * const cert = await readMaterialFile('tls.crt', 'cert');
 * ```
 */
export async function readMaterialFile(file: string, input: 'cert' | 'key' | 'ca'): Promise<MaterialFile> {
  try {
    return { file, data: await readInput(file, input) };
  } catch (err) {
    if (isMeshlessError(err)) return { file, error: err };
    throw err;
  }
}
