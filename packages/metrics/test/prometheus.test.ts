// registerPrometheusMetrics against real meshless servers: mTLS, TLS and plaintext requests on one
// permissive port, refused handshakes on a strict one, a rotation; the registry is scraped over
// HTTP and the exposition text parsed.
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type https from 'node:https';
import {
  authorize,
  channels,
  loadMaterial,
  type MemorySource,
  MeshlessError,
  memorySource,
} from '@meshless/core';
import { createServer } from '@meshless/server';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { close, handshakeError, listen } from '../../../test/support/https-client.js';
import { type MeshlessMetrics, registerPrometheusMetrics } from '../src/index.js';
import { type Exposition, parseExposition, samplesOf, sampleValue, scrape } from './exposition.js';
import { request, times } from './traffic.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

let root: TestCa;
let orders: Leaf;
let intruder: Leaf;
let foreigner: Leaf;
let served: Leaf;
let source: MemorySource;
let registry: Registry;
let metrics: MeshlessMetrics;
let metricsServer: http.Server;
let metricsPort: number;
let permissive: https.Server;
let permissivePort: number;
let strict: https.Server;
let strictPort: number;

const as = (leaf: Leaf) => ({ cert: leaf.chainPem, key: leaf.keyPem, ca: root.rootPem });
const ok = (_req: unknown, res: http.ServerResponse) => res.end('ok');
const seconds = (leaf: { cert: Leaf['cert'] }) => Math.floor(leaf.cert.notAfter.getTime() / 1000);
const serialOf = (leaf: { cert: Leaf['cert'] }) => leaf.cert.serialNumber.toUpperCase();

async function exposition(): Promise<Exposition> {
  const answer = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe(registry.contentType);
  return parseExposition(answer.body);
}

beforeAll(async () => {
  root = await makeRoot();
  orders = await makeLeaf(root, { uris: [ORDERS] });
  intruder = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/intruder'] });
  foreigner = await makeLeaf(await makeRoot({ trustDomain: 'evil.org' }), { uris: [ORDERS] });
  served = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] });
  source = memorySource(loadMaterial(materialOf(served)), { name: 'billing-tls' });
  source.on('error', () => {});

  registry = new Registry();
  metrics = registerPrometheusMetrics(registry, { peerLabel: { allow: [ORDERS] } });
  metrics.observeSource(source);
  metricsServer = http.createServer(async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
  });
  metricsPort = await listen(metricsServer);

  permissive = createServer({ source, authorize: authorize.id(ORDERS), mode: 'permissive' }, ok);
  permissivePort = await listen(permissive);
  strict = createServer({ source, authorize: authorize.id(ORDERS) }, ok);
  strictPort = await listen(strict);
});

afterAll(async () => {
  metrics.unregister();
  await Promise.all([close(permissive), close(strict), close(metricsServer)]);
  await source.close();
});

describe('registerPrometheusMetrics', () => {
  it('starts every known series at zero', async () => {
    const scraped = await exposition();
    expect(scraped.type.get('meshless_handshake_failures_total')).toBe('counter');
    for (const reason of [
      'no_certificate',
      'unknown_ca',
      'expired',
      'bad_certificate',
      'timeout',
      'protocol',
    ])
      expect(sampleValue(scraped, 'meshless_handshake_failures_total', { reason })).toBe(0);
    expect(
      sampleValue(scraped, 'meshless_certificate_expiry_warnings_total', { state: 'expiring', role: 'leaf' }),
    ).toBe(0);
  });

  it('counts connections, requests and decisions by security, decision and allow-listed peer', async () => {
    expect(await times(2, () => request(permissivePort, as(orders)))).toEqual([200, 200]);
    expect(await request(permissivePort, as(intruder))).toBe(403);
    expect(await request(permissivePort, { ca: root.rootPem })).toBe(200);
    expect(await times(3, () => request(permissivePort, undefined))).toEqual([200, 200, 200]);

    const scraped = await exposition();
    expect(scraped.type.get('meshless_connections_total')).toBe('counter');
    expect(scraped.help.get('meshless_connections_total')).toMatch(/secured/);
    const connections = (security: string, peer: string) =>
      sampleValue(scraped, 'meshless_connections_total', { security, peer });
    expect(connections('mtls', ORDERS)).toBe(2);
    expect(connections('mtls', 'other')).toBe(1);
    expect(connections('tls', '')).toBe(1);
    expect(connections('plaintext', '')).toBe(3);

    const requests = (security: string, decision: string, peer: string) =>
      sampleValue(scraped, 'meshless_requests_total', { security, decision, peer });
    expect(requests('mtls', 'allow', ORDERS)).toBe(2);
    expect(requests('mtls', 'deny', 'other')).toBe(1);
    expect(requests('tls', 'none', '')).toBe(1);
    expect(requests('plaintext', 'none', '')).toBe(3);
    const all = samplesOf(scraped, 'meshless_requests_total').reduce((sum, s) => sum + s.value, 0);
    expect(all).toBe(7);

    const decisions = (decision: string, peer: string) =>
      sampleValue(scraped, 'meshless_authorization_decisions_total', {
        decision,
        enforced: 'true',
        layer: 'server',
        peer,
      });
    expect(decisions('allow', ORDERS)).toBe(2);
    expect(decisions('deny', 'other')).toBe(1);
  });

  it('counts refused handshakes by reason', async () => {
    await handshakeError(permissivePort, as(foreigner));
    await handshakeError(strictPort, { ca: root.rootPem });
    // The server sees the failure a moment after the client does.
    await vi.waitFor(async () => {
      const scraped = await exposition();
      expect(sampleValue(scraped, 'meshless_handshake_failures_total', { reason: 'unknown_ca' })).toBe(1);
      expect(sampleValue(scraped, 'meshless_handshake_failures_total', { reason: 'no_certificate' })).toBe(1);
    });
    const scraped = await exposition();
    expect(sampleValue(scraped, 'meshless_handshake_failures_total', { reason: 'expired' })).toBe(0);
  });

  it('puts the served leaf and root on the expiry gauge before any rotation', async () => {
    const scraped = await exposition();
    expect(scraped.type.get('meshless_certificate_expiry_timestamp_seconds')).toBe('gauge');
    const gauge = samplesOf(scraped, 'meshless_certificate_expiry_timestamp_seconds');
    expect(gauge.map((s) => s.labels).sort((a, b) => a.role!.localeCompare(b.role!))).toEqual([
      { role: 'leaf', subject: 'CN=workload', serial_number: serialOf(served) },
      { role: 'root', subject: 'CN=example.org test root', serial_number: serialOf(root) },
    ]);
    expect(
      sampleValue(scraped, 'meshless_certificate_expiry_timestamp_seconds', {
        role: 'leaf',
        subject: 'CN=workload',
        serial_number: serialOf(served),
      }),
    ).toBe(seconds(served));
    expect(
      samplesOf(scraped, 'meshless_certificate_expiry_timestamp_seconds', { role: 'root' })[0]?.value,
    ).toBe(seconds(root));
  });

  it('counts rotations by result and source, and the gauge follows the new leaf', async () => {
    const next = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] });
    expect(source.set(loadMaterial(materialOf(next)))).toBe(true);
    let scraped = await exposition();
    expect(
      sampleValue(scraped, 'meshless_rotations_total', { result: 'applied', source: 'billing-tls' }),
    ).toBe(1);
    // Created at zero with the first message from the source, so increase() sees the first failure.
    expect(
      sampleValue(scraped, 'meshless_rotations_total', { result: 'rejected', source: 'billing-tls' }),
    ).toBe(0);
    const leaves = samplesOf(scraped, 'meshless_certificate_expiry_timestamp_seconds', { role: 'leaf' });
    expect(leaves.map((s) => [s.labels.serial_number, s.value])).toEqual([[serialOf(next), seconds(next)]]);

    source.fail(new MeshlessError('ERR_MESHLESS_PEM_INVALID', 'tls.crt is not PEM'));
    scraped = await exposition();
    expect(
      sampleValue(scraped, 'meshless_rotations_total', { result: 'rejected', source: 'billing-tls' }),
    ).toBe(1);
    // The new material still serves: a TLS client sees the new leaf's serial.
    expect(await request(permissivePort, as(orders))).toBe(200);
  });

  it('refuses a second registration on the same registry and leaves the first intact', () => {
    const before = registry.getMetricsAsArray().length;
    expect(() => registerPrometheusMetrics(registry)).toThrow(/already been registered/);
    expect(registry.getMetricsAsArray().length).toBe(before);
  });

  it('unregister() unsubscribes and removes its metrics, so registering again works', async () => {
    const channel = diagnostics.channel(channels.request);
    expect(channel.hasSubscribers).toBe(true);
    metrics.unregister();
    expect(channel.hasSubscribers).toBe(false);
    expect(registry.getSingleMetric('meshless_connections_total')).toBeUndefined();
    expect((await exposition()).samples.filter((s) => s.name.startsWith('meshless_'))).toEqual([]);

    metrics = registerPrometheusMetrics(registry, { prefix: 'edge_' });
    expect(await request(permissivePort, undefined)).toBe(200);
    const scraped = await exposition();
    expect(sampleValue(scraped, 'edge_requests_total', { security: 'plaintext', decision: 'none' })).toBe(1);
    expect(sampleValue(scraped, 'edge_connections_total', { security: 'mtls' })).toBe(0);
  });
});
