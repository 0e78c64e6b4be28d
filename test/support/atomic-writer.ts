// File writers as they happen in production, for rotation tests: the kubelet's AtomicWriter (secret
// and ConfigMap volumes), writers that rewrite files in place one after another (spiffe-helper), and
// editors that save through a temporary file and a rename.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeSecretVolume } from '@meshless/pki';

/** File name → content. Names are flat (no `/`). */
export type FileSet = Record<string, string | Uint8Array>;

/**
 * Updates `dir` exactly as the kubelet's AtomicWriter updates a secret volume (see
 * `writeSecretVolume` in @meshless/pki, which this delegates to, for the sequence), creating the
 * first layout when there is none. Returns `swappedAt`, the `performance.now()` just after the
 * rename of `..data`, to time how fast it is seen.
 */
export async function atomicWriterUpdate(
  dir: string,
  files: FileSet,
): Promise<{ swappedAt: number; dataDir: string }> {
  return await writeSecretVolume(dir, files);
}

/**
 * Rewrites files in place (truncate, then write: the same inode), one after another in the order
 * given, waiting `gapMs` between two files: what spiffe-helper does, certificate first, key later.
 */
export async function writeInPlace(
  dir: string,
  files: FileSet,
  options: { gapMs?: number } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  let first = true;
  for (const [name, content] of Object.entries(files)) {
    assertFlat(name);
    if (!first && options.gapMs) await sleep(options.gapMs);
    first = false;
    await writeFile(join(dir, name), content);
  }
}

/**
 * Saves files as editors do: each is written to a temporary file in the same directory, then renamed
 * over its target (a new inode under the old name).
 */
export async function editorSave(dir: string, files: FileSet): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    assertFlat(name);
    const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, content);
    await rename(tmp, join(dir, name));
  }
}

function assertFlat(name: string): void {
  if (name.includes('/') || name === '' || name.startsWith('..'))
    throw new Error(`flat file names only, got ${name}`);
}

/** The files of a cert-manager `kubernetes.io/tls` secret for a leaf made by `makeLeaf`. */
export function certManagerFiles(leaf: { chainPem: string; keyPem: string; caPem: string }): FileSet {
  return { 'tls.crt': leaf.chainPem, 'tls.key': leaf.keyPem, 'ca.crt': leaf.caPem };
}

/** The files spiffe-helper writes for a leaf made by `makeLeaf`, in its writing order. */
export function spiffeHelperFiles(leaf: { chainPem: string; keyPem: string; caPem: string }): FileSet {
  return { 'svid.pem': leaf.chainPem, 'svid_key.pem': leaf.keyPem, 'svid_bundle.pem': leaf.caPem };
}
