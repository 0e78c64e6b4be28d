export type { Coverage, CoverageOptions, CoverageSnapshot, UnmigratedCaller } from './coverage.js';
export { createCoverage } from './coverage.js';
export type { ExpiryWarning } from './expiry-warnings.js';
export type { SecurityLabel } from './labels.js';
export { registerOpenTelemetryMetrics } from './opentelemetry.js';
export type { MeshlessMetrics, MetricsOptions } from './options.js';
export type { PeerLabelPolicy } from './peer-label.js';
export { registerPrometheusMetrics } from './prometheus.js';
