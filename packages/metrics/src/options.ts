import { assertKnownOptions, assertOptionsObject, type CertificateSource, optionError } from '@meshless/core';
import type { ExpiryWarning } from './expiry-warnings.js';
import { type PeerLabeler, type PeerLabelPolicy, peerLabeler } from './peer-label.js';

/**
 * Options of {@link registerPrometheusMetrics} and {@link registerOpenTelemetryMetrics}.
 *
 * @example
 * ```ts
 * registerPrometheusMetrics(register, {
 *   peerLabel: 'trust-domain',
 *   onExpiryWarning: (w) => log.warn(`${w.role} ${w.subject} ${w.state} (notAfter ${w.notAfter.toISOString()})`),
 * });
 * ```
 */
export interface MetricsOptions {
  /** Whether metrics carry the peer identity as a `peer` label, from a bounded set. Default `'none'`. */
  peerLabel?: PeerLabelPolicy;
  /** Prepended to every metric name. Default `'meshless_'`. */
  prefix?: string;
  /**
   * Called once per certificate and state when a served leaf or a trusted root enters its expiring
   * window or expires without a newer one arriving: a logger hook for the alarm. Errors it throws
   * become process warnings, never crashes.
   */
  onExpiryWarning?: (warning: ExpiryWarning) => void;
}

/**
 * What the register functions return: stop everything with `unregister()` (or its alias `close()`)
 * on shutdown or hot reload, so no channel subscription leaks.
 *
 * @example
 * ```ts
 * const metrics = registerPrometheusMetrics(register);
 * metrics.observeSource(source); // the expiry gauge is right before the first rotation
 * process.once('SIGTERM', () => metrics.unregister());
 * ```
 */
export interface MeshlessMetrics {
  /**
   * Puts the source's current certificates on the expiry gauge at once and follows its updates.
   * Rotations of sources not observed reach the gauge through the diagnostics channel, but only
   * from their first rotation on. Returns a function that stops observing the source.
   */
  observeSource(source: CertificateSource): () => void;
  /** Unsubscribes from every channel and source; the Prometheus adapter also removes its metrics. */
  unregister(): void;
  /** The same as {@link MeshlessMetrics.unregister}. */
  close(): void;
}

/**
 * The options with defaults applied and checked.
 *
 * @example
 * ```ts
 * const { prefix, peer }: ResolvedOptions = resolveOptions({}, 'example'); // 'meshless_', undefined
 * ```
 */
export interface ResolvedOptions {
  readonly prefix: string;
  readonly peer: PeerLabeler | undefined;
  readonly onExpiryWarning: ((warning: ExpiryWarning) => void) | undefined;
}

/**
 * The default metric name prefix.
 *
 * @example
 * ```ts
 * `${DEFAULT_PREFIX}requests_total`; // 'meshless_requests_total'
 * ```
 */
export const DEFAULT_PREFIX = 'meshless_';

/**
 * Applies defaults and throws `ERR_MESHLESS_INVALID_OPTION` for bad options (unknown keys too), at
 * registration rather than on a scrape.
 *
 * @example
 * ```ts
 * resolveOptions({ prefix: 'my-app' }, 'registerPrometheusMetrics'); // throws ERR_MESHLESS_INVALID_OPTION
 * ```
 */
export function resolveOptions(options: MetricsOptions | undefined, where: string): ResolvedOptions {
  assertOptionsObject(where, options, true);
  if (options !== undefined) assertKnownOptions(where, options, ['peerLabel', 'prefix', 'onExpiryWarning']);
  const { prefix = DEFAULT_PREFIX, peerLabel, onExpiryWarning } = options ?? {};
  if (typeof prefix !== 'string' || !/^([a-zA-Z_][a-zA-Z0-9_]*)?$/.test(prefix))
    throw optionError(`${where}: prefix must be letters, digits and underscores, not starting with a digit`);
  if (onExpiryWarning !== undefined && typeof onExpiryWarning !== 'function')
    throw optionError(`${where}: onExpiryWarning must be a function`);
  return { prefix, peer: peerLabeler(peerLabel, where), onExpiryWarning };
}
