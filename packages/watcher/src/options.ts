import { resolve } from 'node:path';
import { assertKnownOptions, optionError } from '@meshless/core';
import { detectLayout } from './detect-layout.js';
import { isLayoutName, LAYOUTS, type LayoutName, layoutFiles, type MaterialFiles } from './layouts.js';

/**
 * The defaults of {@link CommonWatchOptions}. The debounce keeps the pickup of a Kubernetes secret
 * update well under 200 ms; the retry starts fast enough to catch a key written a moment after its
 * certificate.
 *
 * @example
 * ```ts
 * WATCH_DEFAULTS.debounceMs; // 50
 * ```
 */
export const WATCH_DEFAULTS = Object.freeze({
  debounceMs: 50,
  pollIntervalMs: 60_000,
  startupTimeoutMs: 5_000,
  retryInitialDelayMs: 200,
  retryMaxDelayMs: 30_000,
});

/**
 * Options shared by both ways of naming the files.
 *
 * @example
 * ```ts
 * const tuning: CommonWatchOptions = { debounceMs: 100, pollIntervalMs: 30_000, startupTimeoutMs: 10_000 };
 * await watchCertificateFiles({ dir: '/etc/tls', layout: 'cert-manager', ...tuning });
 * ```
 */
export interface CommonWatchOptions {
  /** Passphrase of an encrypted PKCS#8 key. */
  passphrase?: string;
  /** Quiet time after the last file system event before the files are re-read. Default 50 ms. */
  debounceMs?: number;
  /** Re-read the files this often even without events (network file systems, missed events). Default 60 000 ms. */
  pollIntervalMs?: number;
  /**
   * How long {@link watchCertificateFiles} waits for the first valid material before it rejects with
   * `ERR_MESHLESS_STARTUP_TIMEOUT`. `0` tries once. Default 5 000 ms.
   */
  startupTimeoutMs?: number;
  /** First delay before re-reading files that held invalid material; it doubles on each failure. Default 200 ms. */
  retryInitialDelayMs?: number;
  /** Longest delay between re-reads of files that hold invalid material. Default 30 000 ms. */
  retryMaxDelayMs?: number;
  /** Emit `expiring` when less than this fraction of a certificate's lifetime is left. Default 1/3. */
  expiringFraction?: number;
  /** Tolerance for a notBefore slightly in the future, in milliseconds. Default 60 000 (see `loadMaterial`). */
  clockSkewMs?: number;
  /** A name for warnings and diagnostics; defaults to the certificate path. */
  name?: string;
  /**
   * Wait (up to `startupTimeoutMs`) for files that do not exist yet, instead of rejecting at once
   * with their `ERR_MESHLESS_FILE_UNREADABLE`. Default: true for the `spiffe-helper` layout, whose
   * helper writes the files after the workload starts; false otherwise, where a missing file is a
   * wrong path.
   */
  waitForFiles?: boolean;
}

/**
 * Names the three files one by one. Paths are resolved against the working directory at call time.
 *
 * @example
 * ```ts
 * await watchCertificateFiles({ cert: '/etc/tls/tls.crt', key: '/etc/tls/tls.key', ca: '/etc/trust/bundle.pem' });
 * ```
 */
export interface FilePathOptions extends CommonWatchOptions {
  cert: string;
  key: string;
  ca: string;
}

/**
 * Names a directory and a known layout; without `layout`, the layout is recognised from the files in
 * the directory (cert-manager when there are none yet, as `meshless issue` writes). The bundle may live in another directory (`caDir`, same file
 * name) or at an explicit path (`ca`), as when trust-manager mounts it from a ConfigMap.
 *
 * @example
 * ```ts
 * await watchCertificateFiles({ dir: '/var/run/secrets/tls', layout: 'cert-manager', caDir: '/var/run/trust' });
 * await watchCertificateFiles({ dir: '/run/spiffe', layout: 'spiffe-helper' });
 * ```
 */
export interface LayoutOptions extends CommonWatchOptions {
  dir: string;
  layout?: LayoutName;
  caDir?: string;
  ca?: string;
}

/**
 * The options of {@link watchCertificateFiles}: three paths, or a directory and a layout.
 *
 * @example
 * ```ts
 * const options: WatchCertificateFilesOptions = { dir: '/etc/tls', layout: 'cert-manager' };
 * ```
 */
export type WatchCertificateFilesOptions = FilePathOptions | LayoutOptions;

/**
 * Options after validation, with defaults filled in and absolute paths. @internal
 *
 * @example
 * ```ts
 * const resolved: ResolvedWatchOptions = resolveWatchOptions({ dir: 'tls', layout: 'cert-manager' });
 * resolved.files.cert; // '/srv/app/tls/tls.crt'
 * ```
 */
export interface ResolvedWatchOptions {
  files: MaterialFiles;
  passphrase: string | undefined;
  debounceMs: number;
  pollIntervalMs: number;
  startupTimeoutMs: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  expiringFraction: number | undefined;
  clockSkewMs: number | undefined;
  name: string;
  waitForFiles: boolean;
}

const COMMON_KEYS = [
  'passphrase',
  'debounceMs',
  'pollIntervalMs',
  'startupTimeoutMs',
  'retryInitialDelayMs',
  'retryMaxDelayMs',
  'expiringFraction',
  'clockSkewMs',
  'name',
  'waitForFiles',
];
const PATH_KEYS = new Set([...COMMON_KEYS, 'cert', 'key', 'ca']);
const LAYOUT_KEYS = new Set([...COMMON_KEYS, 'dir', 'layout', 'caDir', 'ca']);
const WHERE = 'watchCertificateFiles';

/**
 * Validates the options and fills in defaults. Every mistake is a MeshlessError with code
 * `ERR_MESHLESS_INVALID_OPTION` thrown at call time, never a rejection found later. @internal
 *
 * @example
 * ```ts
 * resolveWatchOptions({ dir: '/etc/tls', layout: 'cert-manager' }).debounceMs; // 50
 * resolveWatchOptions({ dir: '/etc/tls', layout: 'istio' });                  // throws ERR_MESHLESS_INVALID_OPTION
 * ```
 */
export function resolveWatchOptions(input: unknown): ResolvedWatchOptions {
  if (!input || typeof input !== 'object') {
    throw optionError(`${WHERE} expects { cert, key, ca } or { dir, layout }`);
  }
  const options = input as Record<string, unknown>;
  const usesDir = options.dir !== undefined || options.layout !== undefined;
  if (usesDir && (options.cert !== undefined || options.key !== undefined)) {
    throw optionError(`${WHERE}: give either { cert, key, ca } or { dir, layout }, not both`);
  }
  rejectUnknownKeys(options, usesDir ? LAYOUT_KEYS : PATH_KEYS);
  const layout = usesDir ? layoutOf(options) : undefined;
  const files = layout ? layoutPaths(options, layout) : explicitPaths(options);
  const retryInitialDelayMs = duration(options, 'retryInitialDelayMs', WATCH_DEFAULTS.retryInitialDelayMs, 1);
  const retryMaxDelayMs = duration(options, 'retryMaxDelayMs', WATCH_DEFAULTS.retryMaxDelayMs, 1);
  if (retryMaxDelayMs < retryInitialDelayMs) {
    throw optionError(
      `${WHERE}: retryMaxDelayMs (${retryMaxDelayMs}) is less than retryInitialDelayMs (${retryInitialDelayMs})`,
    );
  }
  return {
    files,
    passphrase: optionalString(options, 'passphrase'),
    debounceMs: duration(options, 'debounceMs', WATCH_DEFAULTS.debounceMs, 0),
    pollIntervalMs: duration(options, 'pollIntervalMs', WATCH_DEFAULTS.pollIntervalMs, 1),
    startupTimeoutMs: duration(options, 'startupTimeoutMs', WATCH_DEFAULTS.startupTimeoutMs, 0),
    retryInitialDelayMs,
    retryMaxDelayMs,
    expiringFraction: fraction(options.expiringFraction),
    clockSkewMs: options.clockSkewMs === undefined ? undefined : duration(options, 'clockSkewMs', 0, 0),
    name: optionalString(options, 'name') ?? `files:${files.cert}`,
    waitForFiles: optionalBoolean(options, 'waitForFiles') ?? layout === 'spiffe-helper',
  };
}

function rejectUnknownKeys(options: Record<string, unknown>, allowed: Set<string>): void {
  // A typo such as `debounce: 10` would otherwise be ignored silently.
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  assertKnownOptions(WHERE, defined, allowed);
}

function explicitPaths(options: Record<string, unknown>): MaterialFiles {
  return {
    cert: resolve(path(options, 'cert')),
    key: resolve(path(options, 'key')),
    ca: resolve(path(options, 'ca')),
  };
}

function layoutOf(options: Record<string, unknown>): LayoutName {
  if (options.layout === undefined) return detectLayout(resolve(path(options, 'dir')));
  if (!isLayoutName(options.layout)) {
    throw optionError(
      `${WHERE}: layout must be one of ${Object.keys(LAYOUTS).join(', ')}, got ${String(options.layout)}`,
    );
  }
  return options.layout;
}

function layoutPaths(options: Record<string, unknown>, layout: LayoutName): MaterialFiles {
  const dir = resolve(path(options, 'dir'));
  if (options.caDir !== undefined && options.ca !== undefined) {
    throw optionError(`${WHERE}: give caDir or ca, not both`);
  }
  return layoutFiles(dir, layout, {
    ...(options.caDir !== undefined ? { caDir: resolve(path(options, 'caDir')) } : {}),
    ...(options.ca !== undefined ? { ca: resolve(path(options, 'ca')) } : {}),
  });
}

function path(options: Record<string, unknown>, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value.length === 0)
    throw optionError(`${WHERE}: ${name} must be a non-empty path`);
  if (value.includes('\0')) throw optionError(`${WHERE}: ${name} must not contain NUL characters`);
  return value;
}

function optionalString(options: Record<string, unknown>, name: string): string | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw optionError(`${WHERE}: ${name} must be a string`);
  return value;
}

function optionalBoolean(options: Record<string, unknown>, name: string): boolean | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw optionError(`${WHERE}: ${name} must be true or false`, name);
  return value;
}

function duration(options: Record<string, unknown>, name: string, fallback: number, min: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  // setTimeout clamps anything above 2^31-1 ms to 1 ms, which would turn a long interval into a busy loop.
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > 2 ** 31 - 1) {
    throw optionError(
      `${WHERE}: ${name} must be a number of milliseconds from ${min} to ${2 ** 31 - 1}, got ${String(value)}`,
    );
  }
  return value;
}

function fraction(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw optionError(`${WHERE}: expiringFraction must be a number between 0 and 1, got ${String(value)}`);
  }
  return value;
}
