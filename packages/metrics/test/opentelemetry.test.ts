// registerOpenTelemetryMetrics with the SDK's in-memory exporter, over real meshless traffic.
import type https from 'node:https';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { createServer } from '@meshless/server';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { close, handshakeError, listen } from '../../../test/support/https-client.js';
import { type MeshlessMetrics, registerOpenTelemetryMetrics } from '../src/index.js';
import { request, times } from './traffic.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

let root: TestCa;
let orders: Leaf;
let foreigner: Leaf;
let served: Leaf;
let source: MemorySource;
let server: https.Server;
let port: number;
interface Pipeline {
  exporter: InMemoryMetricExporter;
  reader: PeriodicExportingMetricReader;
}
// Cumulative, as a Prometheus exporter reads; and delta, which shows what each collection observed
// (the JS SDK keeps exporting a gauge's attribute sets under cumulative temporality after a callback
// stops observing them, so only there does a rotated-away leaf disappear).
let cumulative: Pipeline;
let delta: Pipeline;
let provider: MeterProvider;
let metrics: MeshlessMetrics;

beforeAll(async () => {
  root = await makeRoot();
  orders = await makeLeaf(root, { uris: [ORDERS] });
  foreigner = await makeLeaf(await makeRoot({ trustDomain: 'evil.org' }), { uris: [ORDERS] });
  served = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] });
  source = memorySource(loadMaterial(materialOf(served)), { name: 'billing-tls' });

  cumulative = pipeline(AggregationTemporality.CUMULATIVE);
  delta = pipeline(AggregationTemporality.DELTA);
  provider = new MeterProvider({ readers: [cumulative.reader, delta.reader] });
  metrics = registerOpenTelemetryMetrics(provider.getMeter('meshless-test'), { peerLabel: 'trust-domain' });
  metrics.observeSource(source);

  server = createServer({ source, authorize: authorize.id(ORDERS), mode: 'permissive' }, (_req, res) =>
    res.end('ok'),
  );
  port = await listen(server);
});

afterAll(async () => {
  metrics.close();
  await close(server);
  await provider.shutdown();
  await source.close();
});

function pipeline(temporality: AggregationTemporality): Pipeline {
  const exporter = new InMemoryMetricExporter(temporality);
  // Exports only when flushed: the test decides when to look.
  return {
    exporter,
    reader: new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 }),
  };
}

/** Flushes one pipeline and returns the data points of each instrument, by name. */
async function collect({ exporter, reader }: Pipeline = cumulative): Promise<Map<string, Point[]>> {
  exporter.reset();
  await reader.forceFlush();
  const byName = new Map<string, Point[]>();
  for (const resource of exporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        byName.set(metric.descriptor.name, metric.dataPoints as Point[]);
      }
    }
  }
  return byName;
}

function valueAt(points: Point[] | undefined, attributes: Record<string, unknown>): unknown {
  const matching = (points ?? []).filter(
    (p) =>
      Object.keys(p.attributes).length === Object.keys(attributes).length &&
      Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
  );
  expect(matching.length).toBeLessThanOrEqual(1);
  return matching[0]?.value;
}

describe('registerOpenTelemetryMetrics', () => {
  it('records the same instruments, with the peer trust domain as an attribute', async () => {
    expect(
      await times(2, () => request(port, { cert: orders.chainPem, key: orders.keyPem, ca: root.rootPem })),
    ).toEqual([200, 200]);
    expect(await request(port, { ca: root.rootPem })).toBe(200);
    expect(await request(port, undefined)).toBe(200);
    await handshakeError(port, { cert: foreigner.chainPem, key: foreigner.keyPem, ca: root.rootPem });
    // The refused handshake is counted as the server closes the socket; let that run.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const points = await collect();
    expect([...points.keys()].sort()).toEqual([
      'meshless_authorization_decisions',
      'meshless_certificate_expiry_timestamp_seconds',
      'meshless_certificate_expiry_warnings',
      'meshless_connections',
      'meshless_handshake_failures',
      'meshless_requests',
    ]);
    const connections = points.get('meshless_connections');
    expect(valueAt(connections, { security: 'mtls', peer: 'example.org' })).toBe(2);
    // No verified peer: the attribute is left out rather than empty.
    expect(valueAt(connections, { security: 'tls' })).toBe(1);
    expect(valueAt(connections, { security: 'plaintext' })).toBe(1);
    const requests = points.get('meshless_requests');
    expect(valueAt(requests, { security: 'mtls', decision: 'allow', peer: 'example.org' })).toBe(2);
    expect(valueAt(requests, { security: 'plaintext', decision: 'none' })).toBe(1);
    expect(
      valueAt(points.get('meshless_authorization_decisions'), {
        decision: 'allow',
        enforced: 'true',
        layer: 'server',
        peer: 'example.org',
      }),
    ).toBe(2);
    const failures = points.get('meshless_handshake_failures');
    expect(valueAt(failures, { reason: 'unknown_ca' })).toBe(1);
    expect(valueAt(failures, { reason: 'protocol' })).toBe(0);
  });

  it('observes the expiry gauge from the source and follows a rotation', async () => {
    let gauge = (await collect()).get('meshless_certificate_expiry_timestamp_seconds');
    const serial = (leaf: Leaf) => leaf.cert.serialNumber.toUpperCase();
    expect(valueAt(gauge, { role: 'leaf', subject: 'CN=workload', serial_number: serial(served) })).toBe(
      Math.floor(served.cert.notAfter.getTime() / 1000),
    );
    expect(gauge?.filter((p) => p.attributes.role === 'root')).toHaveLength(1);

    // A delta reader sees every observation since its own last collection: start it afresh.
    await collect(delta);
    const next = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] });
    source.set(loadMaterial(materialOf(next)));
    const points = await collect();
    expect(valueAt(points.get('meshless_rotations'), { result: 'applied', source: 'billing-tls' })).toBe(1);
    gauge = points.get('meshless_certificate_expiry_timestamp_seconds');
    expect(valueAt(gauge, { role: 'leaf', subject: 'CN=workload', serial_number: serial(next) })).toBe(
      Math.floor(next.cert.notAfter.getTime() / 1000),
    );
    // What the callback observes now: the new leaf only.
    gauge = (await collect(delta)).get('meshless_certificate_expiry_timestamp_seconds');
    const leaves = gauge?.filter((p) => p.attributes.role === 'leaf');
    expect(leaves?.map((p) => p.attributes.serial_number)).toEqual([serial(next)]);
  });

  it('stops recording after close()', async () => {
    metrics.close();
    expect(await request(port, undefined)).toBe(200);
    const points = await collect();
    expect(valueAt(points.get('meshless_requests'), { security: 'plaintext', decision: 'none' })).toBe(1);
    const gauge = (await collect(delta)).get('meshless_certificate_expiry_timestamp_seconds');
    expect(gauge ?? []).toEqual([]);
    expect(() => metrics.observeSource(source)).toThrow(/after unregister/);
  });
});
