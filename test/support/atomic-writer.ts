// File writers as they happen in production, for rotation tests: the kubelet's AtomicWriter (secret
// and ConfigMap volumes), writers that rewrite files in place one after another (spiffe-helper), and
// editors that save through a temporary file and a rename.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** File name → content. Names are flat (no `/`). */
export type FileSet = Record<string, string | Uint8Array>;

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** `..2006_01_02_15_04_05.`, the prefix of the kubelet's timestamped directories. */
function timestampPrefix(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

/**
 * Updates `dir` exactly as the kubelet's AtomicWriter updates a secret volume, creating the first
 * layout when there is none:
 *
 * 1. the payload is written into a new timestamped directory `..<timestamp>.<random>`;
 * 2. a symlink `..data_tmp` to it is created and renamed over `..data` (the atomic step);
 * 3. the visible names are created as symlinks into `..data/` where missing;
 * 4. visible names no longer in the payload are removed;
 * 5. the previous timestamped directory is removed.
 *
 * Returns `swappedAt`, the `performance.now()` just after the rename, to time how fast it is seen.
 */
export async function atomicWriterUpdate(
  dir: string,
  files: FileSet,
): Promise<{ swappedAt: number; dataDir: string }> {
  await mkdir(dir, { recursive: true });
  const dataLink = join(dir, DATA);
  const previous = await readlink(dataLink).catch(() => undefined);
  const dataDir = await mkdtemp(join(dir, timestampPrefix()));
  for (const [name, content] of Object.entries(files)) {
    assertFlat(name);
    await writeFile(join(dataDir, name), content, { mode: 0o644 });
  }
  const tmpLink = join(dir, DATA_TMP);
  await rm(tmpLink, { force: true });
  await symlink(dataDir.slice(dir.length + 1), tmpLink);
  await rename(tmpLink, dataLink);
  const swappedAt = performance.now();
  for (const name of Object.keys(files)) {
    const visible = join(dir, name);
    const exists = await lstat(visible).then(
      () => true,
      () => false,
    );
    if (!exists) await symlink(join(DATA, name), visible);
  }
  if (previous) {
    const oldNames = await readdir(join(dir, previous)).catch(() => [] as string[]);
    for (const name of oldNames) if (!(name in files)) await rm(join(dir, name), { force: true });
    await rm(join(dir, previous), { recursive: true, force: true });
  }
  return { swappedAt, dataDir };
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
