// Expiry events with certificates that live a few seconds. The tests run concurrently: each waits on
// the clock, not on the CPU.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { certManagerFiles, writeInPlace } from '../../../test/support/atomic-writer.js';
import { makeLeaf, makeRoot } from '../../../test/support/certs.js';
import { watchCertificateFiles } from '../src/index.js';
import { autoClose, fingerprintOf, record, tempDir, until, updateTo } from './support.js';

// X.509 validity has one-second resolution: times are whole seconds.
function seconds(fromNow: number): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + fromNow * 1000);
}

describe.concurrent('expiry', () => {
  it('emits expiring, then expired, for the leaf and for a root of the bundle, and keeps serving', async ({
    expect,
    onTestFinished,
  }) => {
    const dir = await tempDir(onTestFinished);
    const root = await makeRoot({ notBefore: seconds(-2), notAfter: seconds(4) });
    const notAfter = seconds(3);
    const leaf = await makeLeaf(root, { notBefore: seconds(-1), notAfter });
    await writeInPlace(dir, certManagerFiles(leaf));
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'cert-manager' }), onTestFinished);
    const events = record(source);
    await until(() => events.expiry.length === 4, 7000, 'four expiry events');
    const seen = events.expiry.map((e) => `${e.state} ${e.role}`);
    expect(seen).toEqual(['expiring leaf', 'expiring root', 'expired leaf', 'expired root']);
    const leafExpired = events.expiry.find((e) => e.state === 'expired' && e.role === 'leaf');
    expect(leafExpired).toMatchObject({
      serialNumber: source.current().identity.serialNumber,
      spiffeId: 'spiffe://example.org/ns/default/sa/workload',
      notAfter,
    });
    // Nothing newer arrived: the expired material is still what is served, and status says so.
    expect(source.current().identity.fingerprint256).toBe(fingerprintOf(leaf));
    expect(source.status().serving.notAfter.getTime()).toBeLessThan(Date.now());
  });

  it('emits no expiring for a certificate replaced before its renewal point', async ({
    expect,
    onTestFinished,
  }) => {
    const dir = await tempDir(onTestFinished);
    const root = await makeRoot();
    // Lifetime 6 s, so `expiring` would fire 4 s in (a third of its life left).
    const shortLived = await makeLeaf(root, { notBefore: seconds(-1), notAfter: seconds(5) });
    await writeInPlace(dir, certManagerFiles(shortLived));
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'cert-manager' }), onTestFinished);
    const events = record(source);
    const renewed = await makeLeaf(root);
    const seen = updateTo(source, fingerprintOf(renewed));
    await writeInPlace(dir, certManagerFiles(renewed));
    await seen;
    await sleep(4500);
    expect(events.expiry).toEqual([]);
  });

  it('passes expiringFraction through', async ({ expect, onTestFinished }) => {
    const dir = await tempDir(onTestFinished);
    const root = await makeRoot();
    // Lifetime 100 s with 98 s left: not expiring at the default third, expiring at 0.99.
    const leaf = await makeLeaf(root, { notBefore: seconds(-2), notAfter: seconds(98) });
    await writeInPlace(dir, certManagerFiles(leaf));
    const source = autoClose(
      await watchCertificateFiles({ dir, layout: 'cert-manager', expiringFraction: 0.99 }),
      onTestFinished,
    );
    const events = record(source);
    await until(() => events.expiry.length === 1, 1000, 'an expiring event');
    expect(events.expiry[0]).toMatchObject({ state: 'expiring', role: 'leaf' });
  });
});
