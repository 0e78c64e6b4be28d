import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYOUT_FILES, type Layout } from '@meshless/pki';
import type { Check } from './check.js';

/** What `doctor --dir` found in a directory. */
export interface LayoutFinding {
  check: Check;
  /** The recognised layout, when there is one. */
  layout?: Layout;
  /** The files to check, when a layout was recognised. */
  files?: { cert: string; key: string; ca: string };
  /** Set when the directory is a Kubernetes secret or configMap volume: where `..data` points. */
  kubernetesData?: string;
}

const TITLE = 'directory holds a known file layout';

/**
 * Recognises the file layout of a directory: cert-manager (`tls.crt`, `tls.key`, `ca.crt`),
 * spiffe-helper (`svid.pem`, `svid_key.pem`, `svid_bundle.pem`), and whether it is a Kubernetes
 * volume, where the kubelet keeps the files under a timestamped directory behind the `..data`
 * symlink and swaps that symlink to update them all at once.
 *
 * @example
 * ```ts
 * const { layout, files, kubernetesData } = await detectLayout('/var/run/secrets/tls');
 * ```
 */
export async function detectLayout(dir: string): Promise<LayoutFinding> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) return unreadable(`${dir} is not a directory`, 'ENOTDIR');
    entries = await readdir(dir);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return unreadable(
      `cannot read directory ${dir}: ${errno === 'ENOENT' ? 'no such directory' : errno}`,
      errno,
    );
  }
  const kubernetesData = await dataLink(dir, entries);
  const layout = (['cert-manager', 'spiffe-helper'] as const).find((name) => {
    const names = LAYOUT_FILES[name];
    return entries.includes(names.cert) || entries.includes(names.key);
  });
  if (!layout) {
    return {
      check: {
        id: 'layout',
        title: TITLE,
        outcome: 'fail',
        code: 'ERR_MESHLESS_LAYOUT_UNKNOWN',
        detail: `${dir} holds neither tls.crt/tls.key (cert-manager) nor svid.pem/svid_key.pem (spiffe-helper)${
          entries.length > 0
            ? `; found ${entries
                .filter((e) => !e.startsWith('..'))
                .slice(0, 8)
                .join(', ')}`
            : '; it is empty'
        }`,
      },
      ...(kubernetesData ? { kubernetesData } : {}),
    };
  }
  const names = LAYOUT_FILES[layout];
  const files = { cert: join(dir, names.cert), key: join(dir, names.key), ca: join(dir, names.ca) };
  const where = kubernetesData ? `, a Kubernetes volume (..data → ${kubernetesData})` : '';
  return {
    check: {
      id: 'layout',
      title: TITLE,
      outcome: 'pass',
      detail: `${layout} (${names.cert}, ${names.key}, ${names.ca})${where}`,
    },
    layout,
    files,
    ...(kubernetesData ? { kubernetesData } : {}),
  };
}

async function dataLink(dir: string, entries: readonly string[]): Promise<string | undefined> {
  if (!entries.includes('..data')) return undefined;
  try {
    const path = join(dir, '..data');
    if (!(await lstat(path)).isSymbolicLink()) return undefined;
    return await readlink(path);
  } catch {
    return undefined;
  }
}

function unreadable(detail: string, errno: string): LayoutFinding {
  return {
    check: {
      id: 'layout',
      title: TITLE,
      outcome: 'fail',
      code: 'ERR_MESHLESS_FILE_UNREADABLE',
      detail: `${detail} (${errno})`,
    },
  };
}
