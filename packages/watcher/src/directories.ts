import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import type { MaterialFiles } from './layouts.js';

/**
 * The directories whose events can mean new material: the directory of each path as given (where the
 * kubelet swaps `..data` and editors rename files into place), and, for a path that is a symlink
 * leading out of those directories, the directory of its target. Each is resolved to its real path,
 * so a directory reached through a symlink is watched where its events happen.
 *
 * @example
 * ```ts
 * await directoriesToWatch({ cert: '/etc/tls/tls.crt', key: '/etc/tls/tls.key', ca: '/etc/trust/ca.crt' });
 * // ['/etc/tls', '/etc/trust']
 * ```
 */
export async function directoriesToWatch(files: MaterialFiles): Promise<string[]> {
  const paths = [files.cert, files.key, files.ca];
  const dirs = new Set<string>();
  for (const path of paths) dirs.add(await realOrSelf(dirname(path)));
  const parents = [...dirs];
  for (const path of paths) {
    const target = await realpath(path).catch(() => undefined);
    if (!target) continue;
    const dir = dirname(target);
    // kubelet links point into `..data/`, a subdirectory of a watched directory: its events show up there.
    if (!parents.some((parent) => isWithin(dir, parent))) dirs.add(dir);
  }
  return [...dirs].sort();
}

async function realOrSelf(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  // Not `startsWith('..')`: the kubelet's own names (`..data`, `..2024_…`) begin with two dots.
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
