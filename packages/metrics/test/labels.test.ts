// Label hygiene and options: every label value comes from a closed set, peer identities only under a
// bounded policy, bad options fail at registration. Messages are published straight on the channels,
// as middleware and other copies of meshless do.
import diagnostics from 'node:diagnostics_channel';
import { channels, identityFromCertificate, loadMaterial, memorySource } from '@meshless/core';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf } from '../../../test/support/certs.js';
import {
  type MeshlessMetrics,
  registerOpenTelemetryMetrics,
  registerPrometheusMetrics,
} from '../src/index.js';
import { peerLabeler } from '../src/peer-label.js';
import { type Exposition, parseExposition, samplesOf, sampleValue } from './exposition.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const publish = (name: string, message: object) => diagnostics.channel(name).publish(message);

let ordersPeer: ReturnType<typeof identityFromCertificate>;
let webPeer: ReturnType<typeof identityFromCertificate>;
let dnsOnlyPeer: ReturnType<typeof identityFromCertificate>;
beforeAll(async () => {
  const root = await makeRoot();
  ordersPeer = identityFromCertificate((await makeLeaf(root, { uris: [ORDERS] })).certPem);
  webPeer = identityFromCertificate(
    (await makeLeaf(root, { uris: ['spiffe://partner.example/ns/web/sa/web'] })).certPem,
  );
  dnsOnlyPeer = identityFromCertificate(
    (await makeLeaf(root, { uris: [], dnsNames: ['legacy.local'] })).certPem,
  );
});

let metrics: MeshlessMetrics | undefined;
afterEach(() => {
  metrics?.unregister();
  metrics = undefined;
});

async function scrape(registry: Registry): Promise<Exposition> {
  return parseExposition(await registry.metrics());
}

describe('peer labels', () => {
  it('maps peers to bounded values under each policy', () => {
    expect(peerLabeler('none', 'test')).toBeUndefined();
    expect(peerLabeler(undefined, 'test')).toBeUndefined();

    const byDomain = peerLabeler('trust-domain', 'test')!;
    expect([ordersPeer, webPeer, dnsOnlyPeer, undefined].map(byDomain)).toEqual([
      'example.org',
      'partner.example',
      'other',
      '',
    ]);

    // Allow-list entries are canonicalized like any SPIFFE ID.
    const byId = peerLabeler({ allow: [ORDERS] }, 'test')!;
    expect([ordersPeer, webPeer, dnsOnlyPeer, undefined].map(byId)).toEqual([ORDERS, 'other', 'other', '']);
  });

  it('labels middleware decisions with their layer and audit mode with enforced="false"', async () => {
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry, { peerLabel: 'trust-domain' });
    const base = { reason: 'r', security: 'mtls', method: 'GET', path: '/' };
    publish(channels.authorization, {
      ...base,
      decision: 'deny',
      enforced: false,
      layer: 'express',
      peer: webPeer,
    });
    publish(channels.authorization, {
      ...base,
      decision: 'allow',
      enforced: true,
      layer: 'fastify',
      peer: ordersPeer,
    });
    publish(channels.authorization, { ...base, decision: 'audit_deny', enforced: false, peer: webPeer });
    const scraped = await scrape(registry);
    const decisions = (labels: Record<string, string>) =>
      sampleValue(scraped, 'meshless_authorization_decisions_total', labels);
    expect(
      decisions({ decision: 'deny', enforced: 'false', layer: 'express', peer: 'partner.example' }),
    ).toBe(1);
    expect(decisions({ decision: 'allow', enforced: 'true', layer: 'fastify', peer: 'example.org' })).toBe(1);
    expect(
      decisions({ decision: 'audit_deny', enforced: 'false', layer: 'server', peer: 'partner.example' }),
    ).toBe(1);
  });

  it('maps values outside the known sets to "other", so no message can mint new series', async () => {
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry);
    publish(channels.connection, { security: 'quantum', remoteAddress: '10.0.0.1' });
    publish(channels.request, { security: 'mtls', decision: '<script>' });
    publish(channels.handshakeFailure, { reason: `x${'y'.repeat(1000)}` });
    publish(channels.authorization, { decision: 'maybe', layer: 'koa' });
    const scraped = await scrape(registry);
    expect(sampleValue(scraped, 'meshless_connections_total', { security: 'other' })).toBe(1);
    expect(sampleValue(scraped, 'meshless_requests_total', { security: 'mtls', decision: 'other' })).toBe(1);
    expect(sampleValue(scraped, 'meshless_handshake_failures_total', { reason: 'other' })).toBe(1);
    expect(
      sampleValue(scraped, 'meshless_authorization_decisions_total', {
        decision: 'other',
        enforced: 'true',
        layer: 'other',
      }),
    ).toBe(1);
  });

  it('survives malformed messages without throwing into the publisher', async () => {
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry, { peerLabel: 'trust-domain' });
    for (const name of Object.values(channels)) {
      expect(() =>
        publish(name, { peer: { spiffeId: 42 }, material: { leaf: {} }, result: 'applied' }),
      ).not.toThrow();
    }
    // Let a possible rethrow on the next tick happen inside the test.
    await new Promise((resolve) => setImmediate(resolve));
  });
});

describe('rotations of sources that were never observed', () => {
  it('reach the expiry gauge from their first rotation, replacing the previous leaf by source name', async () => {
    const root = await makeRoot();
    const [one, two, three] = await Promise.all([makeLeaf(root), makeLeaf(root), makeLeaf(root)]);
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry);
    const source = memorySource(loadMaterial(materialOf(one)), { name: 'unobserved' });
    try {
      const leaves = async () =>
        samplesOf(await scrape(registry), 'meshless_certificate_expiry_timestamp_seconds', {
          role: 'leaf',
        }).map((s) => s.labels.serial_number);
      expect(await leaves()).toEqual([]);
      source.set(loadMaterial(materialOf(two)));
      expect(await leaves()).toEqual([two.cert.serialNumber.toUpperCase()]);
      source.set(loadMaterial(materialOf(three)));
      expect(await leaves()).toEqual([three.cert.serialNumber.toUpperCase()]);
    } finally {
      await source.close();
    }
  });
});

describe('observed sources', () => {
  it('leave the gauge when no longer observed, also after a rotation', async () => {
    const root = await makeRoot();
    const [one, two] = await Promise.all([makeLeaf(root), makeLeaf(root)]);
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry);
    const source = memorySource(loadMaterial(materialOf(one)), { name: 'observed' });
    try {
      const stop = metrics.observeSource(source);
      expect(metrics.observeSource(source)).toBeTypeOf('function'); // observing twice is harmless
      source.set(loadMaterial(materialOf(two)));
      const gauge = async () =>
        samplesOf(await scrape(registry), 'meshless_certificate_expiry_timestamp_seconds');
      expect((await gauge()).map((s) => [s.labels.role, s.labels.serial_number])).toEqual([
        ['leaf', two.cert.serialNumber.toUpperCase()],
        ['root', root.cert.serialNumber.toUpperCase()],
      ]);
      stop();
      expect(await gauge()).toEqual([]);
    } finally {
      await source.close();
    }
  });
});

describe('federated trust bundles', () => {
  it('put the roots of every trust domain on the expiry gauge', async () => {
    const root = await makeRoot();
    const partner = await makeRoot({ trustDomain: 'partner.example' });
    const material = loadMaterial({
      ...materialOf(await makeLeaf(root)),
      federatedBundles: { 'partner.example': partner.rootPem },
    });
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry);
    const source = memorySource(material);
    try {
      metrics.observeSource(source);
      const roots = samplesOf(await scrape(registry), 'meshless_certificate_expiry_timestamp_seconds', {
        role: 'root',
      });
      expect(roots.map((s) => s.labels.subject).sort()).toEqual([
        'CN=example.org test root',
        'CN=partner.example test root',
      ]);
    } finally {
      await source.close();
    }
  });
});

describe('options', () => {
  const cases: [string, unknown][] = [
    ['a prefix with a dash', { prefix: 'my-app_' }],
    ['a prefix starting with a digit', { prefix: '1meshless_' }],
    ['an unknown peer label policy', { peerLabel: 'spiffe-id' }],
    ['an allow-list entry that is not a SPIFFE ID', { peerLabel: { allow: ['orders'] } }],
    ['a hook that is not a function', { onExpiryWarning: 'log' }],
    ['options that are not an object', 'fast'],
    ['a misspelled option', { peerLabels: 'trust-domain' }],
  ];
  it.each(cases)('refuses %s with ERR_MESHLESS_INVALID_OPTION, before registering anything', (_, options) => {
    const invalid = expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' });
    const registry = new Registry();
    expect(() => registerPrometheusMetrics(registry, options as never)).toThrow(invalid);
    expect(registry.getMetricsAsArray()).toEqual([]);
    expect(() => registerOpenTelemetryMetrics({ createCounter() {} } as never, options as never)).toThrow(
      invalid,
    );
  });

  it('refuses what is not a registry or a meter', () => {
    expect(() => registerPrometheusMetrics({} as never)).toThrow(/prom-client Registry/);
    expect(() => registerOpenTelemetryMetrics(undefined as never)).toThrow(/OpenTelemetry Meter/);
  });

  it('takes a prefix for every metric name', async () => {
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry, { prefix: 'edge_meshless_' });
    const names = new Set((await scrape(registry)).type.keys());
    expect(names).toEqual(
      new Set([
        'edge_meshless_connections_total',
        'edge_meshless_requests_total',
        'edge_meshless_authorization_decisions_total',
        'edge_meshless_handshake_failures_total',
        'edge_meshless_rotations_total',
        'edge_meshless_certificate_expiry_warnings_total',
        'edge_meshless_certificate_expiry_timestamp_seconds',
        'edge_meshless_request_credentials_total',
      ]),
    );
  });
});
