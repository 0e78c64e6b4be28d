import diagnostics from 'node:diagnostics_channel';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import {
  channels,
  type ExpiryEvent,
  loadMaterial,
  MeshlessError,
  memorySource,
  staticSource,
  type TlsMaterial,
} from '../src/index.js';

let root: TestCa;
beforeAll(async () => {
  root = await makeRoot();
});

describe('certificate sources', () => {
  it('staticSource serves its material', async () => {
    const material = loadMaterial(materialOf(await makeLeaf(root)));
    const source = staticSource(material);
    expect(source.current()).toBe(material);
    await source.close();
  });

  it('memorySource emits update only for different material, and reports rotations on the channel', async () => {
    const first = loadMaterial(materialOf(await makeLeaf(root)));
    const second = loadMaterial(materialOf(await makeLeaf(root)));
    const source = memorySource(first);
    const updates: [TlsMaterial, TlsMaterial][] = [];
    const published: unknown[] = [];
    const onRotation = (message: unknown) => published.push(message);
    diagnostics.subscribe(channels.rotation, onRotation);
    source.on('update', (material, previous) => updates.push([material, previous]));
    expect(source.set(first)).toBe(false);
    expect(source.set(second)).toBe(true);
    expect(source.set(second)).toBe(false);
    diagnostics.unsubscribe(channels.rotation, onRotation);
    expect(updates).toEqual([[second, first]]);
    expect(source.current()).toBe(second);
    expect(published).toEqual([
      expect.objectContaining({ result: 'applied', material: second, previous: first }),
    ]);
    await source.close();
    expect(source.set(first)).toBe(false);
  });

  it('a refused update keeps the current material and never crashes without an error listener', async () => {
    const first = loadMaterial(materialOf(await makeLeaf(root)));
    const source = memorySource(first);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    source.fail(new MeshlessError('ERR_MESHLESS_KEY_MISMATCH', 'key does not match'));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.some((w) => w.includes('key does not match'))).toBe(true);
    const errors: MeshlessError[] = [];
    source.on('error', (err) => errors.push(err));
    source.fail(new MeshlessError('ERR_MESHLESS_PEM_INVALID', 'garbage'));
    expect(errors.map((e) => e.code)).toEqual(['ERR_MESHLESS_PEM_INVALID']);
    expect(source.current()).toBe(first);
    await source.close();
  });

  it('emits expiring after two thirds of the lifetime, then expired', async () => {
    const now = Date.now();
    const leaf = await makeLeaf(root, { notBefore: new Date(now - 2000), notAfter: new Date(now + 1000) });
    const material = loadMaterial(materialOf(leaf));
    const events: ExpiryEvent[] = [];
    const source = staticSource(material);
    source.on('expiring', (e) => events.push(e));
    source.on('expired', (e) => events.push(e));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await source.close();
    const leafEvents = events.filter((e) => e.role === 'leaf');
    expect(leafEvents.map((e) => e.state)).toEqual(['expiring', 'expired']);
    expect(leafEvents[0]?.spiffeId).toBe('spiffe://example.org/ns/default/sa/workload');
    expect(leafEvents[1]?.notAfter.getTime()).toBe(leaf.cert.notAfter.getTime());
    expect(events.filter((e) => e.role === 'root')).toEqual([]);
  });

  it('stops expiry timers on close', async () => {
    const now = Date.now();
    const leaf = await makeLeaf(root, { notBefore: new Date(now - 1000), notAfter: new Date(now + 1500) });
    const source = staticSource(loadMaterial(materialOf(leaf)));
    const events: ExpiryEvent[] = [];
    source.on('expired', (e) => events.push(e));
    await source.close();
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(events).toEqual([]);
  });
});
