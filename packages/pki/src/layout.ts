import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { optionError } from '@meshless/core';
import { writeFileAtomic } from './atomic-write.js';
import type { IssuedCertificate } from './issue.js';

/**
 * The file layouts {@link writeLayout} knows.
 *
 * @example
 * ```ts
 * const layout: Layout = process.env.SPIFFE_HELPER ? 'spiffe-helper' : 'cert-manager';
 * ```
 */
export type Layout = 'cert-manager' | 'spiffe-helper';

/**
 * The file names of each layout: cert-manager's `kubernetes.io/tls` secret keys, and the names
 * spiffe-helper writes by default.
 *
 * @example
 * ```ts
 * LAYOUT_FILES['spiffe-helper'].cert; // 'svid.pem'
 * ```
 */
export const LAYOUT_FILES: Readonly<Record<Layout, Readonly<{ cert: string; key: string; ca: string }>>> =
  Object.freeze({
    'cert-manager': Object.freeze({ cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' }),
    'spiffe-helper': Object.freeze({ cert: 'svid.pem', key: 'svid_key.pem', ca: 'svid_bundle.pem' }),
  });

/**
 * The paths {@link writeLayout} wrote (relative when `dir` was), named as `loadMaterial` names its inputs.
 *
 * @example
 * ```ts
 * const paths: LayoutPaths = await writeLayout('./certs', issued);
 * loadMaterial({ cert: readFileSync(paths.cert), key: readFileSync(paths.key), ca: readFileSync(paths.ca), files: paths });
 * ```
 */
export interface LayoutPaths {
  /** The certificate chain (leaf first). */
  cert: string;
  /** The private key (mode 0600). */
  key: string;
  /** The trust bundle. */
  ca: string;
}

/**
 * Writes an issued certificate in the layout a workload (or meshless's file watcher) expects:
 * `'cert-manager'` writes `tls.crt` (the chain), `tls.key` and `ca.crt`; `'spiffe-helper'` writes
 * `svid.pem`, `svid_key.pem` and `svid_bundle.pem`. Each file is replaced atomically (temporary file
 * in the same directory, fsync, rename); the key is mode 0600, the others 0644. The directory is
 * created when missing. The bundle is written first and the certificate last, so a watcher that
 * reacts to the certificate finds its key already there.
 *
 * @returns the paths written.
 * @example
 * ```ts
 * const ca = await createCa({ trustDomain: 'example.org' });
 * const issued = await ca.issue({ spiffeId: 'spiffe://example.org/ns/prod/sa/web' });
 * const paths = await writeLayout('/var/run/secrets/tls', issued, 'cert-manager');
 * const source = await watchCertificateFiles(paths); // { cert, key, ca }
 * ```
 */
export async function writeLayout(
  dir: string,
  issued: IssuedCertificate,
  layout: Layout = 'cert-manager',
): Promise<LayoutPaths> {
  if (typeof dir !== 'string' || dir.length === 0)
    throw optionError('writeLayout: dir must be a directory path');
  const files = Object.hasOwn(LAYOUT_FILES, layout) ? LAYOUT_FILES[layout] : undefined;
  if (!files)
    throw optionError(
      `writeLayout: layout must be 'cert-manager' or 'spiffe-helper', got ${JSON.stringify(layout)}`,
    );
  for (const field of ['chainPem', 'keyPem', 'caPem'] as const) {
    if (typeof issued?.[field] !== 'string' || issued[field].length === 0) {
      throw optionError(`writeLayout: issued.${field} must be a PEM string (pass what ca.issue() returned)`);
    }
  }
  await mkdir(dir, { recursive: true });
  const paths: LayoutPaths = {
    cert: join(dir, files.cert),
    key: join(dir, files.key),
    ca: join(dir, files.ca),
  };
  await writeFileAtomic(paths.ca, issued.caPem, 0o644);
  await writeFileAtomic(paths.key, issued.keyPem, 0o600);
  await writeFileAtomic(paths.cert, issued.chainPem, 0o644);
  return paths;
}
