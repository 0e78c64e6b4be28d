import { invalidOption } from '@meshless/core';
import type { Attributes, Counter, Meter, ObservableCallback } from '@opentelemetry/api';
import { COUNTERS, type CounterKey, EXPIRY_GAUGE, openTelemetryName } from './instruments.js';
import { createObserver, type Labels } from './observer.js';
import { type MeshlessMetrics, type MetricsOptions, resolveOptions } from './options.js';

const WHERE = 'registerOpenTelemetryMetrics';

/**
 * Creates meshless's instruments on an OpenTelemetry meter and starts counting: the same counters
 * and expiry gauge as {@link registerPrometheusMetrics}, with the same attributes. Counter names
 * drop Prometheus's `_total`, which exporters to Prometheus add back, so dashboards and alert rules
 * work with either adapter.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { registerOpenTelemetryMetrics } from '@meshless/metrics';
 *
 * const meshlessMetrics = registerOpenTelemetryMetrics(metrics.getMeter('meshless'));
 * meshlessMetrics.observeSource(source);
 * ```
 */
export function registerOpenTelemetryMetrics(meter: Meter, options?: MetricsOptions): MeshlessMetrics {
  if (!meter || typeof (meter as Partial<Meter>).createCounter !== 'function')
    throw invalidOption(WHERE, 'meter', meter, 'an OpenTelemetry Meter');
  const resolved = resolveOptions(options, WHERE);
  const counters = {} as Record<CounterKey, Counter>;
  for (const [key, definition] of Object.entries(COUNTERS) as [CounterKey, (typeof COUNTERS)[CounterKey]][]) {
    counters[key] = meter.createCounter(openTelemetryName(resolved.prefix, definition.name), {
      description: definition.help,
    });
  }
  const gauge = meter.createObservableGauge(resolved.prefix + EXPIRY_GAUGE.name, {
    description: EXPIRY_GAUGE.help,
    unit: 's',
  });

  const observer = createObserver(resolved, {
    add: (key, labels) => counters[key].add(1, attributes(labels)),
    zero: (key, labels) => counters[key].add(0, attributes(labels)),
  });
  const observe: ObservableCallback = (result) => {
    for (const cert of observer.certificates()) {
      result.observe(cert.notAfter / 1000, {
        role: cert.role,
        subject: cert.subject,
        serial_number: cert.serialNumber,
      });
    }
  };
  gauge.addCallback(observe);

  let registered = true;
  const unregister = () => {
    if (!registered) return;
    registered = false;
    // Instruments cannot be removed from a meter: they stop receiving data.
    gauge.removeCallback(observe);
    observer.close();
  };
  return { observeSource: (source) => observer.observeSource(source), unregister, close: unregister };
}

// No verified peer is an empty peer label in Prometheus (where it means "absent"); OpenTelemetry
// attributes leave it out instead.
function attributes(labels: Labels): Attributes {
  if (labels.peer !== '') return labels;
  const { peer: _peer, ...rest } = labels;
  return rest;
}
