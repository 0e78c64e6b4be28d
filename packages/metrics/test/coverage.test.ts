// createCoverage: shares by security label and the unmigrated callers, from real permissive-mode
// traffic; the window and the caller cap with a controlled clock and messages on the channel.
import diagnostics from 'node:diagnostics_channel';
import type https from 'node:https';
import { authorize, channels, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { createServer } from '@meshless/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { close, listen } from '../../../test/support/https-client.js';
import { createCoverage } from '../src/index.js';
import { SlidingWindowCounter } from '../src/sliding-window.js';
import { request, times } from './traffic.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const requestChannel = diagnostics.channel(channels.request);

describe('createCoverage over real traffic', () => {
  let root: TestCa;
  let orders: Awaited<ReturnType<typeof makeLeaf>>;
  let source: MemorySource;
  let server: https.Server;
  let port: number;

  beforeAll(async () => {
    root = await makeRoot();
    orders = await makeLeaf(root, { uris: [ORDERS] });
    source = memorySource(loadMaterial(materialOf(await makeLeaf(root))));
    server = createServer({ source, authorize: authorize.id(ORDERS), mode: 'permissive' }, (_req, res) =>
      res.end('ok'),
    );
    port = await listen(server);
  });
  afterAll(async () => {
    await close(server);
    await source.close();
  });

  it('gives the share of requests by security and lists plaintext and tls callers', async () => {
    const coverage = createCoverage();
    try {
      const mtls = { cert: orders.chainPem, key: orders.keyPem, ca: root.rootPem };
      await times(5, () => request(port, mtls, 'orders/2.0'));
      await times(2, () => request(port, { ca: root.rootPem }, 'reports/1.4'));
      await times(3, () => request(port, undefined, 'curl/8.5.0'));

      const snapshot = coverage.snapshot();
      expect(snapshot.total).toBe(10);
      expect(snapshot.byLabel).toEqual({ mtls: 5, tls: 2, plaintext: 3 });
      expect(snapshot.shares).toEqual({ mtls: 0.5, tls: 0.2, plaintext: 0.3 });
      expect(snapshot.truncated).toBe(false);
      // IPv4-mapped addresses are shown as plain IPv4.
      expect(snapshot.unmigrated.map(({ lastSeen: _, ...rest }) => rest)).toEqual([
        { remoteAddress: '127.0.0.1', userAgent: 'curl/8.5.0', security: 'plaintext', requests: 3 },
        { remoteAddress: '127.0.0.1', userAgent: 'reports/1.4', security: 'tls', requests: 2 },
      ]);
      for (const caller of snapshot.unmigrated) {
        expect(caller.lastSeen).toBeInstanceOf(Date);
        expect(Date.now() - caller.lastSeen.getTime()).toBeLessThan(10_000);
      }
    } finally {
      coverage.close();
    }
  });

  it('stops counting after close()', async () => {
    const coverage = createCoverage();
    coverage.close();
    await request(port, undefined, 'late/1');
    expect(coverage.snapshot().total).toBe(0);
    expect(requestChannel.hasSubscribers).toBe(false);
  });
});

describe('createCoverage window and bounds', () => {
  const publish = (security: string, remoteAddress: string, userAgent = 'ua') =>
    requestChannel.publish({ security, decision: 'none', remoteAddress, userAgent, method: 'GET' });

  it('lets requests older than the window fall out', () => {
    let now = 1_000_000;
    const coverage = createCoverage({ windowMs: 60_000, slots: 12, now: () => now });
    try {
      publish('plaintext', '10.0.0.1');
      publish('mtls', '10.0.0.2');
      now += 30_000;
      publish('plaintext', '10.0.0.1');
      let snapshot = coverage.snapshot();
      expect(snapshot.byLabel).toEqual({ mtls: 1, tls: 0, plaintext: 2 });
      expect(snapshot.unmigrated[0]).toMatchObject({ remoteAddress: '10.0.0.1', requests: 2 });

      now += 35_000; // the first two requests are now 65 s old
      snapshot = coverage.snapshot();
      expect(snapshot.byLabel).toEqual({ mtls: 0, tls: 0, plaintext: 1 });
      expect(snapshot.unmigrated[0]).toMatchObject({ remoteAddress: '10.0.0.1', requests: 1 });

      now += 60_000;
      snapshot = coverage.snapshot();
      expect(snapshot.total).toBe(0);
      expect(snapshot.shares).toEqual({ mtls: 0, tls: 0, plaintext: 0 });
      expect(snapshot.unmigrated).toEqual([]);
    } finally {
      coverage.close();
    }
  });

  it('remembers at most maxCallers callers, the most recent, and says the list is incomplete', () => {
    let now = 5_000_000;
    const coverage = createCoverage({ maxCallers: 3, now: () => now });
    try {
      for (let i = 1; i <= 5; i++) {
        publish('plaintext', `10.0.0.${i}`);
        now += 1000;
      }
      const snapshot = coverage.snapshot();
      expect(snapshot.total).toBe(5);
      expect(snapshot.unmigrated.map((c) => c.remoteAddress)).toEqual(['10.0.0.5', '10.0.0.4', '10.0.0.3']);
      expect(snapshot.truncated).toBe(true);
    } finally {
      coverage.close();
    }
  });

  it('cuts long user agents and ignores malformed messages', () => {
    const coverage = createCoverage();
    try {
      publish('tls', '10.0.0.9', 'x'.repeat(10_000));
      requestChannel.publish({ security: 'carrier-pigeon' });
      requestChannel.publish(null as unknown as object);
      const snapshot = coverage.snapshot();
      expect(snapshot.total).toBe(1);
      expect(snapshot.unmigrated[0]?.userAgent).toHaveLength(256);
    } finally {
      coverage.close();
    }
  });

  it('refuses bad options with ERR_MESHLESS_INVALID_OPTION', () => {
    for (const options of [
      { windowMs: 0 },
      { slots: 0.5 },
      { maxCallers: -1 },
      { now: 'soon' },
      { window: 5 },
    ]) {
      expect(() => createCoverage(options as never)).toThrow(
        expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
      );
    }
  });
});

describe('SlidingWindowCounter', () => {
  it('sums the slots inside the window only', () => {
    const counter = new SlidingWindowCounter(10_000, 10);
    counter.add(0);
    counter.add(999, 2);
    counter.add(5_000);
    expect(counter.total(5_000)).toBe(4);
    expect(counter.total(10_999)).toBe(1); // slot 0 left the window
    counter.add(20_000); // reuses slot 0's position
    expect(counter.total(20_000)).toBe(1);
  });
});
