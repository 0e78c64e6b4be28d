// The expiry alarm: short-lived certificates served by core sources raise expiring and expired
// events; the metrics count each once per certificate and state, call the logger hook once, and put
// notAfter on the gauge. A leaf replaced in time raises nothing.
import diagnostics from 'node:diagnostics_channel';
import {
  type CertificateSource,
  channels,
  loadMaterial,
  type MemorySource,
  memorySource,
  staticSource,
} from '@meshless/core';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeLeaf, makeRoot, materialOf } from '../../../test/support/certs.js';
import { type ExpiryWarning, type MeshlessMetrics, registerPrometheusMetrics } from '../src/index.js';
import { parseExposition, samplesOf, sampleValue } from './exposition.js';

let metrics: MeshlessMetrics | undefined;
const sources: CertificateSource[] = [];
afterEach(async () => {
  metrics?.unregister();
  for (const source of sources.splice(0)) await source.close();
});

describe('expiry warnings', () => {
  it('warns once per certificate and state, through the hook and the counter', async () => {
    const root = await makeRoot();
    const fresh = await makeLeaf(root);
    // Nine seconds of life of which three are left (under the default third): expiring at once,
    // expired three seconds later. Loaded right away, while still valid, even on a busy machine.
    const shortLived = () =>
      makeLeaf(root, { notBefore: new Date(Date.now() - 6000), notAfter: new Date(Date.now() + 3000) });
    const [short, doomed] = await Promise.all([shortLived(), shortLived()]);
    const material = loadMaterial(materialOf(short));
    const doomedMaterial = loadMaterial(materialOf(doomed));

    const warnings: ExpiryWarning[] = [];
    const raw: unknown[] = [];
    const onRaw = (message: unknown) => raw.push(message);
    diagnostics.subscribe(channels.expiry, onRaw);
    const registry = new Registry();
    metrics = registerPrometheusMetrics(registry, { onExpiryWarning: (w) => warnings.push(w) });
    // Two sources serving the same certificate: each raises its own events.
    const first = memorySource(material, { name: 'first' });
    const second = staticSource(material, { name: 'second' });
    // This one is rotated before its leaf nears expiry: a newer one arrived, so no alarm.
    const rotated: MemorySource = memorySource(doomedMaterial, { name: 'rotated' });
    sources.push(first, second, rotated);
    rotated.set(loadMaterial(materialOf(fresh)));
    metrics.observeSource(first);

    // The observed source's leaf, and the leaf the unobserved source rotated to.
    const gauge = parseExposition(await registry.metrics());
    const leaves = samplesOf(gauge, 'meshless_certificate_expiry_timestamp_seconds', { role: 'leaf' });
    expect(new Map(leaves.map((s) => [s.labels.serial_number, s.value]))).toEqual(
      new Map([
        [short.cert.serialNumber.toUpperCase(), Math.floor(short.cert.notAfter.getTime() / 1000)],
        [fresh.cert.serialNumber.toUpperCase(), Math.floor(fresh.cert.notAfter.getTime() / 1000)],
      ]),
    );

    await vi.waitFor(() => expect(warnings.map((w) => w.state)).toEqual(['expiring', 'expired']), {
      timeout: 6000,
      interval: 50,
    });
    // The second source's events for the same certificate have fired by now too, and were absorbed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    diagnostics.unsubscribe(channels.expiry, onRaw);
    expect(raw).toHaveLength(4);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({
      role: 'leaf',
      subject: 'CN=workload',
      serialNumber: short.cert.serialNumber.toUpperCase(),
      spiffeId: 'spiffe://example.org/ns/default/sa/workload',
    });
    expect(warnings[0]?.fingerprint256).toBe(material.leaf.fingerprint256);
    expect(['first', 'second']).toContain(warnings[0]?.source);
    expect(warnings.some((w) => w.serialNumber === doomed.cert.serialNumber.toUpperCase())).toBe(false);

    const scraped = parseExposition(await registry.metrics());
    const count = (state: string, role: string) =>
      sampleValue(scraped, 'meshless_certificate_expiry_warnings_total', { state, role });
    expect(count('expiring', 'leaf')).toBe(1);
    expect(count('expired', 'leaf')).toBe(1);
    expect(count('expiring', 'root')).toBe(0);
  });

  it('turns an error thrown by the hook into a process warning', async () => {
    metrics = registerPrometheusMetrics(new Registry(), {
      onExpiryWarning: () => {
        throw new Error('logger down');
      },
    });
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    diagnostics.channel(channels.expiry).publish({
      state: 'expiring',
      role: 'root',
      subject: 'CN=old root',
      serialNumber: '01',
      fingerprint256: 'AB:CD',
      notAfter: new Date(),
      source: 'test',
    });
    const warning = await warned;
    expect(warning.message).toMatch(/onExpiryWarning threw: Error: logger down/);
    expect((warning as Error & { code?: string }).code).toBe('MESHLESS_METRICS');
  });
});
