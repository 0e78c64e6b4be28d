// Writers other than the kubelet: spiffe-helper rewriting plain files one after another, editors
// saving through a rename, and writers that rewrite what is already there.
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  atomicWriterUpdate,
  certManagerFiles,
  editorSave,
  spiffeHelperFiles,
  writeInPlace,
} from '../../../test/support/atomic-writer.js';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { watchCertificateFiles } from '../src/index.js';
import { autoClose, fingerprintOf, keyMatches, record, tempDir, updateTo } from './support.js';

let root: TestCa;
beforeAll(async () => {
  root = await makeRoot();
});

describe('spiffe-helper: plain files rewritten in place, certificate first, key later', () => {
  it('never emits a mismatched pair and serves the new pair as soon as the key matches', async () => {
    const dir = await tempDir();
    const first = await makeLeaf(root);
    await writeInPlace(dir, spiffeHelperFiles(first));
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'spiffe-helper' }));
    const events = record(source);
    let served = fingerprintOf(first);
    for (const gapMs of [200, 300, 400]) {
      const next = await makeLeaf(root);
      const files = spiffeHelperFiles(next);
      await writeInPlace(dir, { 'svid.pem': files['svid.pem']! });
      // The certificate alone is never served: its key is not there yet.
      await sleep(gapMs - 50);
      expect(source.current().identity.fingerprint256).toBe(served);
      const seen = updateTo(source, fingerprintOf(next), 1000);
      const keyWrittenAt = Date.now();
      await writeInPlace(dir, {
        'svid_key.pem': files['svid_key.pem']!,
        'svid_bundle.pem': files['svid_bundle.pem']!,
      });
      await seen;
      expect(Date.now() - keyWrittenAt).toBeLessThan(500);
      served = fingerprintOf(next);
    }
    expect(events.updates).toHaveLength(3);
    expect(events.updates.every(keyMatches)).toBe(true);
    // While only the certificate was new, the mismatch was reported, naming the key file.
    const mismatch = events.errors.find((e) => e.code === 'ERR_MESHLESS_KEY_MISMATCH');
    expect(mismatch?.context).toMatchObject({ input: 'key', file: join(dir, 'svid_key.pem') });
    expect(
      events.errors.every((e) => ['ERR_MESHLESS_KEY_MISMATCH', 'ERR_MESHLESS_PEM_INVALID'].includes(e.code)),
    ).toBe(true);
    expect(source.status()).toMatchObject({ failing: false, rotations: 3 });
  });
});

describe('editor saves', () => {
  it('picks up files replaced by writing a temporary file and renaming it over the target', async () => {
    const dir = await tempDir();
    await writeInPlace(dir, certManagerFiles(await makeLeaf(root)));
    const source = autoClose(
      await watchCertificateFiles({
        cert: join(dir, 'tls.crt'),
        key: join(dir, 'tls.key'),
        ca: join(dir, 'ca.crt'),
      }),
    );
    const events = record(source);
    const next = await makeLeaf(root);
    const seen = updateTo(source, fingerprintOf(next), 1000);
    const files = certManagerFiles(next);
    await editorSave(dir, { 'tls.crt': files['tls.crt']!, 'tls.key': files['tls.key']! });
    await seen;

    // A bundle-only change (a second root added) is an update too, with the same leaf.
    const other = await makeRoot({ trustDomain: 'other.example' });
    await editorSave(dir, { 'ca.crt': `${next.caPem}${other.rootPem}` });
    await new Promise<void>((resolve) => source.once('update', () => resolve()));
    expect(source.current().roots).toHaveLength(2);
    expect(source.current().identity.fingerprint256).toBe(fingerprintOf(next));
    expect(events.updates.every(keyMatches)).toBe(true);
  });
});

describe('rewriting what is already there', () => {
  it('emits no update for identical content, touched files, a new AtomicWriter payload with the same bytes, or CRLF', async () => {
    const dir = await tempDir();
    const leaf = await makeLeaf(root);
    const files = certManagerFiles(leaf);
    await atomicWriterUpdate(dir, files);
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'cert-manager', debounceMs: 20 }));
    const events = record(source);

    await atomicWriterUpdate(dir, files);
    await sleep(150);
    const now = new Date();
    for (const name of Object.keys(files)) await utimes(join(dir, name), now, now);
    await sleep(150);
    const crlf = Object.fromEntries(
      Object.entries(files).map(([name, text]) => [name, String(text).replace(/\n/g, '\r\n')]),
    );
    await atomicWriterUpdate(dir, crlf);
    await sleep(150);
    await source.refresh();

    expect(events.updates).toEqual([]);
    expect(events.errors).toEqual([]);
    expect(source.status()).toMatchObject({ rotations: 0, failing: false });
  });

  it('emits no update when plain files are rewritten with the same bytes', async () => {
    const dir = await tempDir();
    const files = certManagerFiles(await makeLeaf(root));
    await writeInPlace(dir, files);
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'cert-manager', debounceMs: 20 }));
    const events = record(source);
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    await sleep(150);
    await source.refresh();
    expect(events.updates).toEqual([]);
    expect(source.status().rotations).toBe(0);
  });
});
