import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAYOUTS, type LayoutName } from './layouts.js';

/**
 * The layout used when a directory holds the files of no layout yet: cert-manager's, as
 * `meshless issue` writes by default, so the watcher and the CLI agree.
 *
 * @example
 * ```ts
 * DEFAULT_LAYOUT; // 'cert-manager'
 * ```
 */
export const DEFAULT_LAYOUT: LayoutName = 'cert-manager';

/**
 * The layout of the files in `dir`, as `meshless doctor --dir` recognises it: cert-manager when
 * `tls.crt` or `tls.key` is there, else spiffe-helper when `svid.pem` or `svid_key.pem` is, else
 * {@link DEFAULT_LAYOUT}.
 *
 * @example
 * ```ts
 * detectLayout('/var/run/secrets/tls'); // 'cert-manager' (tls.crt is there)
 * detectLayout('/run/spiffe');          // 'spiffe-helper' (svid.pem is there)
 * ```
 */
export function detectLayout(dir: string): LayoutName {
  const found = (Object.keys(LAYOUTS) as LayoutName[]).find((name) => {
    const names = LAYOUTS[name];
    return existsSync(join(dir, names.cert)) || existsSync(join(dir, names.key));
  });
  return found ?? DEFAULT_LAYOUT;
}
