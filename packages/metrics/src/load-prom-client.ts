import { createRequire } from 'node:module';

/**
 * The parts of prom-client meshless uses.
 *
 * @example
 * ```ts
 * const { Counter, Gauge }: PromClient = loadPromClient();
 * ```
 */
export type PromClient = Pick<typeof import('prom-client'), 'Counter' | 'Gauge'>;

let cached: PromClient | undefined;

/**
 * Loads prom-client on first use. It is an optional peer dependency: a static import would make
 * `@meshless/metrics` fail to load for an application that only uses OpenTelemetry. prom-client
 * ships CommonJS only, so `require` works from both builds of this package.
 *
 * @example
 * ```ts
 * const { Counter } = loadPromClient();
 * ```
 */
export function loadPromClient(): PromClient {
  if (cached) return cached;
  try {
    cached = createRequire(import.meta.url)('prom-client') as PromClient;
  } catch (cause) {
    throw new Error('registerPrometheusMetrics needs prom-client: npm install prom-client', { cause });
  }
  return cached;
}
