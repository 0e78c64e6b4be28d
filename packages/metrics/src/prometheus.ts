import { invalidOption } from '@meshless/core';
import type { Counter, Gauge, Registry } from 'prom-client';
import { COUNTERS, type CounterKey, EXPIRY_GAUGE, labelNamesOf } from './instruments.js';
import { loadPromClient } from './load-prom-client.js';
import { createObserver, type Observer } from './observer.js';
import { type MeshlessMetrics, type MetricsOptions, resolveOptions } from './options.js';

const WHERE = 'registerPrometheusMetrics';

/**
 * Registers meshless's metrics on a prom-client registry and starts counting: connections by
 * security, requests by security and decision, authorization decisions, handshake failures by
 * reason, certificate rotations by result, expiry warnings, and a gauge of when each served
 * certificate expires. Call `observeSource()` on the result so the gauge is right from the start.
 *
 * @example
 * ```ts
 * import { collectDefaultMetrics, register } from 'prom-client';
 * import { registerPrometheusMetrics } from '@meshless/metrics';
 *
 * const metrics = registerPrometheusMetrics(register, { peerLabel: 'trust-domain' });
 * metrics.observeSource(source);
 * http.createServer(async (req, res) => {
 *   res.setHeader('content-type', register.contentType);
 *   res.end(await register.metrics());
 * }).listen(9464);
 * ```
 */
export function registerPrometheusMetrics(registry: Registry, options?: MetricsOptions): MeshlessMetrics {
  if (!registry || typeof (registry as Partial<Registry>).registerMetric !== 'function')
    throw invalidOption(WHERE, 'registry', registry, 'a prom-client Registry');
  const resolved = resolveOptions(options, WHERE);
  const prom = loadPromClient();
  const names: string[] = [];
  let observer: Observer | undefined;
  const counters = {} as Record<CounterKey, Counter>;
  try {
    for (const [key, definition] of Object.entries(COUNTERS) as [
      CounterKey,
      (typeof COUNTERS)[CounterKey],
    ][]) {
      const name = resolved.prefix + definition.name;
      counters[key] = new prom.Counter({
        name,
        help: definition.help,
        labelNames: labelNamesOf(definition, resolved.peer !== undefined),
        registers: [registry],
      });
      names.push(name);
    }
    const gaugeName = resolved.prefix + EXPIRY_GAUGE.name;
    new prom.Gauge({
      name: gaugeName,
      help: EXPIRY_GAUGE.help,
      labelNames: [...EXPIRY_GAUGE.labels],
      registers: [registry],
      // Rebuilt on each scrape, so a rotated-away certificate's series disappears with it.
      collect(this: Gauge) {
        this.reset();
        for (const cert of observer?.certificates() ?? []) {
          this.set(
            { role: cert.role, subject: cert.subject, serial_number: cert.serialNumber },
            cert.notAfter / 1000,
          );
        }
      },
    });
    names.push(gaugeName);
  } catch (error) {
    // A name already registered (say, a second registration without unregister()): leave no half set.
    for (const name of names) registry.removeSingleMetric(name);
    throw error;
  }

  const active = createObserver(resolved, {
    add: (key, labels) => counters[key].inc(labels),
    zero: (key, labels) => counters[key].inc(labels, 0),
  });
  observer = active;
  let registered = true;
  const unregister = () => {
    if (!registered) return;
    registered = false;
    active.close();
    for (const name of names) registry.removeSingleMetric(name);
  };
  return { observeSource: (source) => active.observeSource(source), unregister, close: unregister };
}
