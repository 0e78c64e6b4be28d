// Bad new content never replaces the last good material: it is an `error` event naming the code and
// the file, the source keeps serving, and it recovers as soon as the files are good again.
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { certManagerFiles, writeInPlace } from '../../../test/support/atomic-writer.js';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { watchCertificateFiles } from '../src/index.js';
import { autoClose, errorWhere, fingerprintOf, record, type TestLeaf, tempDir, updateTo } from './support.js';

let root: TestCa;
beforeAll(async () => {
  root = await makeRoot();
});

async function started(options: { retryMaxDelayMs?: number } = {}) {
  const dir = await tempDir();
  const first = await makeLeaf(root);
  await writeInPlace(dir, certManagerFiles(first));
  const source = autoClose(
    await watchCertificateFiles({ dir, layout: 'cert-manager', debounceMs: 20, ...options }),
  );
  const events = record(source);
  return { dir, first, source, events, path: (name: string) => join(dir, name) };
}

async function writePair(dir: string, leaf: TestLeaf): Promise<void> {
  await writeInPlace(dir, { 'tls.crt': leaf.chainPem, 'tls.key': leaf.keyPem });
}

describe('invalid new content', () => {
  it('a truncated write is an error until the rest is written', async () => {
    const { dir, first, source, path } = await started();
    const next = await makeLeaf(root);
    const error = errorWhere(source, (e) => e.code === 'ERR_MESHLESS_PEM_INVALID');
    await writeFile(path('tls.crt'), next.chainPem.slice(0, next.chainPem.length / 2));
    expect((await error).context).toMatchObject({ input: 'cert', file: path('tls.crt') });
    expect((await error).message).toContain(path('tls.crt'));
    expect(source.current().identity.fingerprint256).toBe(fingerprintOf(first));
    expect(source.status()).toMatchObject({
      failing: true,
      lastError: { code: 'ERR_MESHLESS_PEM_INVALID', file: path('tls.crt') },
    });
    const seen = updateTo(source, fingerprintOf(next));
    await writePair(dir, next);
    await seen;
    expect(source.status().failing).toBe(false);
  });

  it('garbage is an error; restoring the files clears it without an update, and the same garbage again is reported again', async () => {
    const { first, source, events, path } = await started();
    const error = errorWhere(source, (e) => e.code === 'ERR_MESHLESS_PEM_INVALID');
    await writeFile(path('tls.key'), 'this is not a key\n');
    expect((await error).context).toMatchObject({ input: 'key', file: path('tls.key') });
    await sleep(600); // several retries of the same garbage are not reported again
    expect(events.errors).toHaveLength(1);
    await writeFile(path('tls.key'), first.keyPem);
    await source.refresh();
    expect(source.status()).toMatchObject({ failing: false, rotations: 0 });
    expect(source.status().lastError?.code).toBe('ERR_MESHLESS_PEM_INVALID');
    const again = errorWhere(source, (e) => e.code === 'ERR_MESHLESS_PEM_INVALID');
    await writeFile(path('tls.key'), 'this is not a key\n');
    await again;
    expect(events.updates).toEqual([]);
    expect(source.current().identity.fingerprint256).toBe(fingerprintOf(first));
  });

  const defects: { name: string; code: string; input: string; make: () => Promise<TestLeaf> }[] = [
    {
      name: 'an expired certificate',
      code: 'ERR_MESHLESS_CERT_EXPIRED',
      input: 'cert',
      make: () =>
        makeLeaf(root, {
          notBefore: new Date(Date.now() - 7_200_000),
          notAfter: new Date(Date.now() - 3_600_000),
        }),
    },
    {
      name: 'a certificate from an untrusted CA',
      code: 'ERR_MESHLESS_CHAIN_UNTRUSTED',
      input: 'cert',
      make: async () => {
        const foreign = await makeLeaf(await makeRoot());
        return { ...foreign, caPem: root.rootPem };
      },
    },
    {
      name: 'a key that belongs to another certificate',
      code: 'ERR_MESHLESS_KEY_MISMATCH',
      input: 'key',
      make: async () => ({ ...(await makeLeaf(root)), keyPem: (await makeLeaf(root)).keyPem }),
    },
  ];

  for (const defect of defects) {
    it(`${defect.name} is refused with ${defect.code}, and a good pair afterwards is served`, async () => {
      const { dir, first, source } = await started();
      const error = errorWhere(source, (e) => e.code === defect.code);
      await writePair(dir, await defect.make());
      expect((await error).context).toMatchObject({
        input: defect.input,
        file: join(dir, defect.input === 'key' ? 'tls.key' : 'tls.crt'),
      });
      expect(source.current().identity.fingerprint256).toBe(fingerprintOf(first));
      const good = await makeLeaf(root);
      const seen = updateTo(source, fingerprintOf(good));
      await writePair(dir, good);
      await seen;
    });
  }
});

describe('files and directories that go away', () => {
  it('a deleted key file is ERR_MESHLESS_FILE_UNREADABLE (ENOENT); re-creating it recovers', async () => {
    const { dir, source, path } = await started();
    const error = errorWhere(source, (e) => e.code === 'ERR_MESHLESS_FILE_UNREADABLE');
    await rm(path('tls.key'));
    expect((await error).context).toMatchObject({ input: 'key', file: path('tls.key'), errno: 'ENOENT' });
    const next = await makeLeaf(root);
    const seen = updateTo(source, fingerprintOf(next));
    await writePair(dir, next);
    await seen;
  });

  it('a deleted and re-created directory is read again, and watched again', async () => {
    const { dir, source, path } = await started({ retryMaxDelayMs: 400 });
    const error = errorWhere(source, (e) => e.code === 'ERR_MESHLESS_FILE_UNREADABLE');
    await rm(dir, { recursive: true });
    expect((await error).context).toMatchObject({ input: 'cert', file: path('tls.crt'), errno: 'ENOENT' });
    const next = await makeLeaf(root);
    const seen = updateTo(source, fingerprintOf(next), 2000);
    await mkdir(dir);
    await writeInPlace(dir, certManagerFiles(next));
    await seen; // found by a retry
    // The new directory is watched: the next rotation arrives by event, not by the one-minute poll.
    const last = await makeLeaf(root);
    const byEvent = updateTo(source, fingerprintOf(last), 1000);
    await writePair(dir, last);
    await byEvent;
    expect(source.status().directories).toEqual([dir]);
  });

  it('a key file that becomes unreadable is an error; readable again, it is served again', async () => {
    const { first, source, path } = await started();
    const error = errorWhere(source, (e) => e.code === 'ERR_MESHLESS_FILE_UNREADABLE');
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // root reads files whatever their mode, so chmod 000 proves nothing here: make the key path a
      // directory instead, which root cannot read as a file either (EISDIR).
      await rm(path('tls.key'));
      await mkdir(path('tls.key'));
    } else {
      await chmod(path('tls.key'), 0o000);
    }
    expect((await error).context).toMatchObject({
      input: 'key',
      file: path('tls.key'),
      errno: asRoot ? 'EISDIR' : 'EACCES',
    });
    expect(source.current().identity.fingerprint256).toBe(fingerprintOf(first));
    if (asRoot) {
      await rm(path('tls.key'), { recursive: true });
      await writeFile(path('tls.key'), first.keyPem);
    } else {
      await chmod(path('tls.key'), 0o600);
    }
    await source.refresh();
    expect(source.status().failing).toBe(false);
    expect(await readFile(path('tls.key'), 'utf8')).toBe(first.keyPem);
  });
});
