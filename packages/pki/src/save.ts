import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { optionError } from '@meshless/core';
import { writeFileAtomic } from './atomic-write.js';

/**
 * The file names of a saved CA.
 *
 * @example
 * ```ts
 * readFileSync(join(dir, CA_FILES.bundle)); // the root certificate to distribute to workloads
 * ```
 */
export const CA_FILES = Object.freeze({ cert: 'ca.crt', key: 'ca.key', bundle: 'bundle.crt' });

/**
 * The paths {@link CertificateAuthority.save} wrote.
 *
 * @example
 * ```ts
 * const { bundle }: CaPaths = await ca.save('./dev-ca');
 * console.log(`distribute ${bundle} to every workload`);
 * ```
 */
export interface CaPaths {
  /** `ca.crt`: the CA certificate, followed by the intermediates above it. */
  cert: string;
  /** `ca.key`: the CA's private key, PKCS#8, mode 0600. */
  key: string;
  /** `bundle.crt`: the root certificate, the trust bundle to give workloads. */
  bundle: string;
}

/** Writes a CA's files atomically; the directory is created (mode 0700) when missing. */
export async function saveCaFiles(
  dir: string,
  ca: { chainPem: string; keyPem: string; caPem: string },
): Promise<CaPaths> {
  if (typeof dir !== 'string' || dir.length === 0) throw optionError('save: dir must be a directory path');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths: CaPaths = {
    cert: join(dir, CA_FILES.cert),
    key: join(dir, CA_FILES.key),
    bundle: join(dir, CA_FILES.bundle),
  };
  await writeFileAtomic(paths.bundle, ca.caPem, 0o644);
  await writeFileAtomic(paths.key, ca.keyPem, 0o600);
  await writeFileAtomic(paths.cert, ca.chainPem, 0o644);
  return paths;
}
