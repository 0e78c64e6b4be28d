import { EventEmitter } from 'node:events';
import { MeshlessError } from '@meshless/core';
import { parseWorkloadApiAddress } from '../address.js';
import type { BackoffOptions } from '../backoff.js';
import { DEFAULT_STARTUP_TIMEOUT_MS } from '../options.js';
import { WorkloadApiStream } from '../stream.js';
import type { JwtBundleSource } from './bundle-source.js';
import { type JwtBundle, parseJwtBundle } from './jwt-bundle.js';

/**
 * Options of {@link workloadApiJwtBundles}.
 *
 * @example
 * ```ts
 * const options: WorkloadApiJwtBundlesOptions = { startupTimeoutMs: 10_000, backoff: { initialMs: 200 } };
 * ```
 */
export interface WorkloadApiJwtBundlesOptions {
  /** The Workload API address. Default: `SPIFFE_ENDPOINT_SOCKET`. */
  address?: string;
  /** How long to wait for the first bundles. Default 30 000 ms. */
  startupTimeoutMs?: number;
  /** Waits between reconnection attempts. Default 500 ms doubling to 30 s. */
  backoff?: BackoffOptions;
}

interface JwtBundlesMessage {
  bundles: Record<string, Buffer>;
}

/** Events of {@link WorkloadApiJwtBundles}. */
export interface WorkloadApiJwtBundlesEvents {
  /** A new set of bundles is in use. */
  update: [];
  /** A response was discarded, the agent went away, or denied the workload (then nothing is trusted). */
  error: [MeshlessError];
}

/**
 * The JWT bundles of the Workload API's `FetchJWTBundles` stream, own and federated trust domains,
 * each response replacing the whole set: a trust domain left out of a response is no longer
 * trusted. A response that cannot be read is discarded whole (the previous set stays); while the
 * agent is away the last set is kept; PERMISSION_DENIED withdraws every bundle (fail closed).
 *
 * @example
 * ```ts
 * const bundles = await workloadApiJwtBundles();
 * const svid = await validateJwtSvid(token, { audience: 'spiffe://example.org/orders', bundles });
 * await bundles.close();
 * ```
 */
export class WorkloadApiJwtBundles
  extends EventEmitter<WorkloadApiJwtBundlesEvents>
  implements JwtBundleSource
{
  #bundles: ReadonlyMap<string, JwtBundle>;
  readonly #stream: WorkloadApiStream<JwtBundlesMessage>;

  /** @internal use {@link workloadApiJwtBundles}. */
  constructor(
    address: string | undefined,
    backoff: BackoffOptions | undefined,
    first: (bundles: ReadonlyMap<string, JwtBundle> | MeshlessError) => void,
  ) {
    super();
    this.#bundles = new Map();
    // Until the first bundles arrive, `first` hears of them or of a fatal status; problems after
    // that are reported as 'error' events.
    let started = false;
    this.#stream = new WorkloadApiStream<JwtBundlesMessage>(
      parseWorkloadApiAddress(address),
      {
        response: (message) => {
          let bundles: Map<string, JwtBundle>;
          try {
            bundles = readBundles(message);
          } catch (error) {
            if (started) this.#report(error as MeshlessError);
            return;
          }
          this.#bundles = bundles;
          if (started) this.emit('update');
          else {
            started = true;
            first(bundles);
          }
        },
        outage: (error) => started && this.#report(error),
        denied: (error) => {
          this.#bundles = new Map();
          if (started) this.#report(error);
        },
        fatal: (error) => (started ? this.#report(error) : first(error)),
      },
      backoff,
      'FetchJWTBundles',
    );
    this.#stream.start();
  }

  bundleFor(trustDomain: string): JwtBundle | undefined {
    return this.#bundles.get(trustDomain);
  }

  /** The trust domains with a bundle now. */
  get trustDomains(): string[] {
    return [...this.#bundles.keys()];
  }

  /** Ends the stream; later lookups keep the last bundles. */
  async close(): Promise<void> {
    this.#stream.close();
  }

  #report(error: MeshlessError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`workload-api jwt-bundles: ${error.message}`, { code: error.code });
  }
}

/**
 * Streams the JWT bundles from the Workload API (`FetchJWTBundles`, with the security header), for
 * {@link validateJwtSvid}; resolves once the first bundles arrive.
 *
 * @throws MeshlessError `ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID`, `ERR_MESHLESS_WORKLOAD_API_REFUSED`,
 * or `ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE` (nothing usable within `startupTimeoutMs`).
 * @example
 * ```ts
 * const bundles = await workloadApiJwtBundles();
 * bundles.on('update', () => log.info('JWT bundles now for', bundles.trustDomains));
 * ```
 */
export function workloadApiJwtBundles(
  options: WorkloadApiJwtBundlesOptions = {},
): Promise<WorkloadApiJwtBundles> {
  const timeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let done = false;
    const source: WorkloadApiJwtBundles = new WorkloadApiJwtBundles(
      options.address,
      options.backoff,
      (value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (value instanceof MeshlessError) {
          void source.close();
          reject(value);
        } else resolve(source);
      },
    );
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      void source.close();
      reject(
        new MeshlessError(
          'ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE',
          `no JWT bundles from the Workload API within ${timeoutMs} ms`,
          { reason: 'startup-timeout' },
        ),
      );
    }, timeoutMs);
  });
}

// A response is a full set; any unreadable part discards it whole (Workload API §4.5).
function readBundles(message: JwtBundlesMessage): Map<string, JwtBundle> {
  const entries = Object.entries(message.bundles ?? {});
  if (entries.length === 0) {
    throw new MeshlessError(
      'ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID',
      'Workload API response discarded: the JWT bundles response holds no bundle',
      { rule: 'no-bundles' },
    );
  }
  const bundles = new Map<string, JwtBundle>();
  for (const [key, json] of entries) {
    const bundle = parseJwtBundle(key.replace(/^spiffe:\/\//, ''), json, { missingUse: 'accept' });
    bundles.set(bundle.trustDomain.name, bundle);
  }
  return bundles;
}
