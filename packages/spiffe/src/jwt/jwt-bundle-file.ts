import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { MeshlessError } from '@meshless/core';
import type { JwtBundleSource } from './bundle-source.js';
import { type JwtBundle, type MissingUse, parseJwtBundle } from './jwt-bundle.js';

/**
 * Options of {@link jwtBundleFileSource}.
 *
 * @example
 * ```ts
 * const options: JwtBundleFileOptions = {
 *   files: { 'example.org': '/etc/spiffe/example.org.json', 'partner.org': '/etc/spiffe/partner.org.json' },
 *   refreshIntervalMs: 60_000,
 * };
 * ```
 */
export interface JwtBundleFileOptions {
  /** The SPIFFE bundle JSON file of each trusted trust domain, by trust domain name. */
  files: Record<string, string>;
  /** How often the files are read again (a mounted ConfigMap changes in place). Default 30 000; 0: never. */
  refreshIntervalMs?: number;
  /** Keys without `use`: ignored by default, as the SPIFFE bundle format requires (TB §4.2.2). */
  missingUse?: MissingUse;
}

/** Events of {@link JwtBundleFileSource}. */
export interface JwtBundleFileEvents {
  update: [];
  /** A re-read failed; the bundles read before stay in use. */
  error: [MeshlessError];
}

/**
 * JWT bundles from SPIFFE bundle JSON files, for setups without a Workload API. See
 * {@link jwtBundleFileSource}.
 *
 * @example
 * ```ts
 * const bundles = await jwtBundleFileSource({ files: { 'example.org': './bundle.json' } });
 * bundles.on('error', (err) => log.warn(err.code, err.context.file));
 * ```
 */
export class JwtBundleFileSource extends EventEmitter<JwtBundleFileEvents> implements JwtBundleSource {
  #bundles: ReadonlyMap<string, JwtBundle>;
  readonly #options: JwtBundleFileOptions;
  readonly #timer: NodeJS.Timeout | undefined;

  /** @internal use {@link jwtBundleFileSource}. */
  constructor(initial: ReadonlyMap<string, JwtBundle>, options: JwtBundleFileOptions) {
    super();
    this.#bundles = initial;
    this.#options = options;
    const interval = options.refreshIntervalMs ?? 30_000;
    if (interval > 0) {
      this.#timer = setInterval(() => {
        this.reload().catch((error: MeshlessError) => this.#report(error));
      }, interval);
      this.#timer.unref();
    }
  }

  bundleFor(trustDomain: string): JwtBundle | undefined {
    return this.#bundles.get(trustDomain);
  }

  /**
   * Reads every file again; all or nothing: when one file is bad, the previous bundles all stay.
   * @throws MeshlessError `ERR_MESHLESS_JWT_BUNDLE_INVALID`.
   */
  async reload(): Promise<void> {
    const bundles = await readAll(this.#options);
    this.#bundles = bundles;
    this.emit('update');
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #report(error: MeshlessError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`jwt-bundle-file: ${error.message}`, { code: error.code });
  }
}

/**
 * A {@link JwtBundleSource} over SPIFFE bundle JSON files (`spire-server bundle show -format spiffe`,
 * or any JWK Set whose JWT authorities carry `"use": "jwt-svid"`), one per trust domain; the files
 * are read again every `refreshIntervalMs` and on `reload()`, keeping the last good bundles when a
 * file is bad. Keys for X.509 (`"use": "x509-svid"`) in the same document are ignored.
 *
 * @throws MeshlessError `ERR_MESHLESS_JWT_BUNDLE_INVALID` when a file cannot be read or parsed at start.
 * @example
 * ```ts
 * const bundles = await jwtBundleFileSource({ files: { 'example.org': '/etc/spiffe/bundle.json' } });
 * const svid = await validateJwtSvid(token, { audience: 'spiffe://example.org/orders', bundles });
 * ```
 */
export async function jwtBundleFileSource(options: JwtBundleFileOptions): Promise<JwtBundleFileSource> {
  if (!options || typeof options.files !== 'object' || options.files === null) {
    throw new TypeError('jwtBundleFileSource: options.files must map trust domain names to file paths');
  }
  const interval = options.refreshIntervalMs;
  if (interval !== undefined && !(Number.isFinite(interval) && interval >= 0)) {
    throw new TypeError('jwtBundleFileSource: refreshIntervalMs must be a number of milliseconds, 0 or more');
  }
  return new JwtBundleFileSource(await readAll(options), options);
}

async function readAll(options: JwtBundleFileOptions): Promise<Map<string, JwtBundle>> {
  const bundles = new Map<string, JwtBundle>();
  for (const [trustDomain, file] of Object.entries(options.files)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new MeshlessError(
        'ERR_MESHLESS_JWT_BUNDLE_INVALID',
        `cannot read the JWT bundle file ${file}`,
        { rule: 'unreadable', file, trustDomain },
        cause,
      );
    }
    try {
      const bundle = parseJwtBundle(trustDomain, text, { missingUse: options.missingUse ?? 'ignore' });
      bundles.set(bundle.trustDomain.name, bundle);
    } catch (error) {
      const cause = error as MeshlessError;
      throw new MeshlessError(
        'ERR_MESHLESS_JWT_BUNDLE_INVALID',
        `${cause.message} (${file})`,
        { ...cause.context, file },
        cause,
      );
    }
  }
  return bundles;
}
