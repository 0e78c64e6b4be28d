// Kubernetes secret volumes: the kubelet's AtomicWriter swaps the `..data` symlink and never touches
// the visible `tls.crt`, so a watcher of the files themselves would see nothing.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { atomicWriterUpdate, certManagerFiles } from '../../../test/support/atomic-writer.js';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { watchCertificateFiles } from '../src/index.js';
import { autoClose, fingerprintOf, keyMatches, record, tempDir, until, updateTo } from './support.js';

let root: TestCa;
beforeAll(async () => {
  root = await makeRoot();
});

describe('kubelet AtomicWriter updates', () => {
  it('the helper lays files out as the kubelet does', async () => {
    const dir = await tempDir();
    const leaf = await makeLeaf(root);
    await atomicWriterUpdate(dir, certManagerFiles(leaf));
    await atomicWriterUpdate(dir, certManagerFiles(await makeLeaf(root)));
    const entries = (await readdir(dir)).sort();
    expect(entries).toHaveLength(5);
    expect(entries.filter((name) => /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./.test(name))).toHaveLength(1);
    expect(entries).toEqual(expect.arrayContaining(['..data', 'ca.crt', 'tls.crt', 'tls.key']));
    expect(await readlink(join(dir, 'tls.crt'))).toBe(join('..data', 'tls.crt'));
    expect((await lstat(join(dir, '..data'))).isSymbolicLink()).toBe(true);
  });

  it('sees each of 20 swaps of ..data within one second, with no error on the way', async () => {
    const dir = await tempDir();
    await atomicWriterUpdate(dir, certManagerFiles(await makeLeaf(root)));
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'cert-manager' }));
    const events = record(source);
    const leaves = await Promise.all(Array.from({ length: 20 }, () => makeLeaf(root)));
    const latencies: number[] = [];
    for (const leaf of leaves) {
      const seen = updateTo(source, fingerprintOf(leaf), 1000);
      const { swappedAt } = await atomicWriterUpdate(dir, certManagerFiles(leaf));
      await seen;
      latencies.push(performance.now() - swappedAt);
    }
    expect(events.errors.map((e) => e.message)).toEqual([]);
    expect(events.updates).toHaveLength(20);
    expect(source.status().rotations).toBe(20);
    expect(source.current().identity.fingerprint256).toBe(fingerprintOf(leaves[19]!));
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });

  it('ends 100 swaps in a tight loop serving the last material, never a mismatched pair, never going back', async () => {
    const dir = await tempDir();
    await atomicWriterUpdate(dir, certManagerFiles(await makeLeaf(root)));
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'cert-manager' }));
    const events = record(source);
    const leaves = await Promise.all(Array.from({ length: 100 }, () => makeLeaf(root)));
    const order = new Map(leaves.map((leaf, index) => [fingerprintOf(leaf), index]));
    for (const leaf of leaves) await atomicWriterUpdate(dir, certManagerFiles(leaf));
    const last = fingerprintOf(leaves[99]!);
    await until(
      () => source.current().identity.fingerprint256 === last,
      2000,
      'the last of 100 swaps to be served',
    );
    expect(events.updates.length).toBeGreaterThan(0);
    expect(events.updates.every(keyMatches)).toBe(true);
    const indexes = events.updates.map((m) => order.get(m.identity.fingerprint256) ?? -1);
    expect(indexes.every((index, i) => index >= 0 && (i === 0 || index > indexes[i - 1]!))).toBe(true);
  });
});
