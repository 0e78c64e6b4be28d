import { lstat, mkdir, mkdtemp, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { optionError } from '@meshless/core';

/** File name → content, flat names only (no `/`). */
export type VolumeFiles = Record<string, string | Uint8Array>;

const DATA = '..data';
const DATA_TMP = '..data_tmp';

// `..2006_01_02_15_04_05.`: the prefix of the kubelet's timestamped payload directories.
function timestampPrefix(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

function assertFlat(name: string): void {
  if (name === '' || name.includes('/') || name.startsWith('..')) {
    throw optionError(
      `writeSecretVolume: file names must be flat and must not start with "..": ${JSON.stringify(name)}`,
    );
  }
}

/**
 * Writes files into `dir` exactly as the kubelet's AtomicWriter updates a Kubernetes secret or
 * ConfigMap volume, creating the first layout when there is none: the payload goes into a new
 * `..<timestamp>.<random>` directory, a `..data_tmp` symlink to it is renamed over `..data` (the one
 * atomic step), visible names are symlinks into `..data/`, names no longer in the payload are
 * removed, and the previous payload directory is deleted. Use it to run a service locally against
 * the same file behaviour it meets in a cluster (rotation never touches `tls.crt` itself).
 *
 * Returns `swappedAt` (`performance.now()` right after the rename), to time how fast a change is seen.
 *
 * @example
 * ```ts
 * const issued = await ca.issue({ spiffeId: 'spiffe://example.org/ns/prod/sa/web' });
 * await writeSecretVolume('/tmp/web-tls', { 'tls.crt': issued.chainPem, 'tls.key': issued.keyPem, 'ca.crt': issued.caPem });
 * ```
 */
export async function writeSecretVolume(
  dir: string,
  files: VolumeFiles,
): Promise<{ swappedAt: number; dataDir: string }> {
  for (const name of Object.keys(files)) assertFlat(name);
  await mkdir(dir, { recursive: true });
  const dataLink = join(dir, DATA);
  const previous = await readlink(dataLink).catch(() => undefined);
  const dataDir = await mkdtemp(join(dir, timestampPrefix()));
  for (const [name, content] of Object.entries(files)) {
    // Keys stay private to the owner, as with a secret volume's defaultMode 0600 for key material.
    const mode = /key/i.test(name) ? 0o600 : 0o644;
    await writeFile(join(dataDir, name), content, { mode });
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
