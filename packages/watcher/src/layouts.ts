import { join } from 'node:path';

/**
 * The three files a source reads: the certificate chain, its private key, and the trust bundle.
 *
 * @example
 * ```ts
 * const files: MaterialFiles = { cert: '/etc/tls/tls.crt', key: '/etc/tls/tls.key', ca: '/etc/trust/ca.crt' };
 * ```
 */
export interface MaterialFiles {
  /** The leaf certificate first, then any intermediates (PEM). */
  readonly cert: string;
  /** The private key of the leaf (PEM). */
  readonly key: string;
  /** The trust bundle: one or more root certificates (PEM). */
  readonly ca: string;
}

/**
 * The file names of the layouts meshless knows by name.
 *
 * - `cert-manager`: a Kubernetes `kubernetes.io/tls` Secret as cert-manager writes it and the kubelet
 *   mounts it: `tls.crt` (leaf and intermediates), `tls.key`, `ca.crt`.
 * - `spiffe-helper`: the files SPIRE's spiffe-helper writes with its default names: `svid.pem`,
 *   `svid_key.pem`, `svid_bundle.pem`.
 *
 * @example
 * ```ts
 * LAYOUTS['cert-manager'].cert; // 'tls.crt'
 * LAYOUTS['spiffe-helper'].ca;  // 'svid_bundle.pem'
 * ```
 */
export const LAYOUTS = Object.freeze({
  'cert-manager': Object.freeze({ cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' }),
  'spiffe-helper': Object.freeze({ cert: 'svid.pem', key: 'svid_key.pem', ca: 'svid_bundle.pem' }),
} as const satisfies Record<string, MaterialFiles>);

/**
 * The name of a layout in {@link LAYOUTS}.
 *
 * @example
 * ```ts
 * const layout: LayoutName = 'cert-manager';
 * ```
 */
export type LayoutName = keyof typeof LAYOUTS;

/**
 * Tells whether `value` names a layout in {@link LAYOUTS}.
 *
 * @example
 * ```ts
 * isLayoutName('cert-manager'); // true
 * isLayoutName('istio');        // false
 * ```
 */
export function isLayoutName(value: unknown): value is LayoutName {
  return typeof value === 'string' && Object.hasOwn(LAYOUTS, value);
}

/**
 * The paths of a layout's three files in `dir`. The bundle may live elsewhere, as when trust-manager
 * mounts it from a ConfigMap in its own volume: `caDir` holds the layout's bundle file name, `ca` is
 * an explicit path (for a bundle named differently, such as `trust-bundle.pem`).
 *
 * @example
 * ```ts
 * layoutFiles('/etc/tls', 'cert-manager');
 * // { cert: '/etc/tls/tls.crt', key: '/etc/tls/tls.key', ca: '/etc/tls/ca.crt' }
 * layoutFiles('/etc/tls', 'cert-manager', { caDir: '/etc/trust' }).ca; // '/etc/trust/ca.crt'
 * ```
 */
export function layoutFiles(
  dir: string,
  layout: LayoutName,
  bundle: { caDir?: string; ca?: string } = {},
): MaterialFiles {
  const names = LAYOUTS[layout];
  return {
    cert: join(dir, names.cert),
    key: join(dir, names.key),
    ca: bundle.ca ?? join(bundle.caDir ?? dir, names.ca),
  };
}
