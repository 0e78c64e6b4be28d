// @peculiar/x509 is loaded on first use, not when the package is imported: a service or a CLI
// command that only imports @meshless/pki (for LAYOUT_FILES, parseDuration, writeFileAtomic) never
// pays for the ASN.1 framework (about 20 MB of memory and most of the import time). It resolves its
// services through tsyringe, which needs the Reflect metadata polyfill loaded first; that stays this
// module's business, so users never have to know.
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

let loaded: typeof X509 | undefined;

/**
 * Loads @peculiar/x509 (with reflect-metadata and Node's WebCrypto as its provider) once. Every
 * async entry point of the package awaits it before anything that reads or makes certificates.
 *
 * @example
 * ```ts
 * const x509 = await loadX509();
 * new x509.X509Certificate(der);
 * ```
 */
export async function loadX509(): Promise<typeof X509> {
  if (!loaded) {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    loaded = x509;
  }
  return loaded;
}

/**
 * @peculiar/x509 for synchronous helpers, which only run after an entry point awaited
 * {@link loadX509} (a CA object exists only then).
 *
 * @example
 * ```ts
 * const x509 = loadedX509();
 * cert.getExtension(x509.BasicConstraintsExtension);
 * ```
 */
export function loadedX509(): typeof X509 {
  if (!loaded)
    throw new Error('@meshless/pki: @peculiar/x509 used before loadX509() (a bug in @meshless/pki)');
  return loaded;
}
