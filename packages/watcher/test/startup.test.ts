// Start-up, options, layouts and status.
import { createPrivateKey } from 'node:crypto';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMeshlessError, type MeshlessError } from '@meshless/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  atomicWriterUpdate,
  certManagerFiles,
  spiffeHelperFiles,
  writeInPlace,
} from '../../../test/support/atomic-writer.js';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import {
  LAYOUTS,
  layoutFiles,
  type WatchCertificateFilesOptions,
  watchCertificateFiles,
} from '../src/index.js';
import { autoClose, fingerprintOf, record, tempDir, updateTo } from './support.js';

let root: TestCa;
beforeAll(async () => {
  root = await makeRoot();
});

async function rejection(promise: Promise<unknown>): Promise<MeshlessError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isMeshlessError(error)) throw new Error(`expected a MeshlessError, got ${String(error)}`);
  return error;
}

describe('options', () => {
  const bad: [string, unknown][] = [
    ['nothing', undefined],
    ['no paths', {}],
    ['a missing key path', { cert: 'a', ca: 'c' }],
    ['an empty path', { cert: '', key: 'b', ca: 'c' }],
    ['a path that is not a string', { cert: 1, key: 'b', ca: 'c' }],
    ['both paths and a directory', { cert: 'a', key: 'b', ca: 'c', dir: '/tmp', layout: 'cert-manager' }],
    ['an unknown layout', { dir: '/tmp', layout: 'istio' }],
    ['a waitForFiles that is not a boolean', { dir: '/tmp', waitForFiles: 'yes' }],
    ['caDir and ca together', { dir: '/tmp', layout: 'cert-manager', caDir: '/a', ca: '/a/ca.crt' }],
    ['caDir with explicit paths', { cert: 'a', key: 'b', ca: 'c', caDir: '/a' }],
    ['an unknown option', { cert: 'a', key: 'b', ca: 'c', debounce: 10 }],
    ['a negative debounce', { cert: 'a', key: 'b', ca: 'c', debounceMs: -1 }],
    ['a zero poll interval', { cert: 'a', key: 'b', ca: 'c', pollIntervalMs: 0 }],
    [
      'an infinite start-up timeout',
      { cert: 'a', key: 'b', ca: 'c', startupTimeoutMs: Number.POSITIVE_INFINITY },
    ],
    [
      'a retry maximum under the initial delay',
      { cert: 'a', key: 'b', ca: 'c', retryInitialDelayMs: 500, retryMaxDelayMs: 100 },
    ],
    ['an expiringFraction of 1', { cert: 'a', key: 'b', ca: 'c', expiringFraction: 1 }],
    ['a passphrase that is not a string', { cert: 'a', key: 'b', ca: 'c', passphrase: 42 }],
  ];
  for (const [name, options] of bad) {
    it(`throws ERR_MESHLESS_INVALID_OPTION at call time for ${name}`, () => {
      expect(() => watchCertificateFiles(options as WatchCertificateFilesOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
      );
    });
  }

  it('names a misspelled option and the one it resembles', () => {
    expect(() =>
      watchCertificateFiles({ cert: 'a', key: 'b', ca: 'c', debounceMS: 10 } as WatchCertificateFilesOptions),
    ).toThrow('watchCertificateFiles: unknown option "debounceMS"; did you mean "debounceMs"?');
  });

  it('knows the cert-manager and spiffe-helper layouts, with the bundle in another directory or file', () => {
    expect(LAYOUTS['cert-manager']).toEqual({ cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' });
    expect(LAYOUTS['spiffe-helper']).toEqual({
      cert: 'svid.pem',
      key: 'svid_key.pem',
      ca: 'svid_bundle.pem',
    });
    expect(layoutFiles('/d', 'spiffe-helper', { caDir: '/t' })).toEqual({
      cert: '/d/svid.pem',
      key: '/d/svid_key.pem',
      ca: '/t/svid_bundle.pem',
    });
    expect(layoutFiles('/d', 'cert-manager', { ca: '/t/bundle.pem' }).ca).toBe('/t/bundle.pem');
  });
});

describe('start-up', () => {
  it("rejects at once with the missing file's own ERR_MESHLESS_FILE_UNREADABLE (ENOENT), not after the timeout", async () => {
    const dir = await tempDir();
    const leaf = await makeLeaf(root);
    await writeInPlace(dir, certManagerFiles(leaf));
    const cases: [string, WatchCertificateFilesOptions, string][] = [
      [
        'a wrong key path',
        { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.kee'), ca: join(dir, 'ca.crt') },
        join(dir, 'tls.kee'),
      ],
      [
        'an empty cert-manager directory',
        { dir: join(dir, 'empty'), layout: 'cert-manager' },
        join(dir, 'empty', 'tls.crt'),
      ],
      ['a directory without a layout', { dir: join(dir, 'nowhere') }, join(dir, 'nowhere', 'tls.crt')],
      [
        'a path through a file',
        { cert: join(dir, 'tls.crt', 'x'), key: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') },
        join(dir, 'tls.crt', 'x'),
      ],
    ];
    for (const [name, options, file] of cases) {
      const started = Date.now();
      const error = await rejection(watchCertificateFiles({ ...options, startupTimeoutMs: 5_000 }));
      expect(Date.now() - started, name).toBeLessThan(1_000);
      expect(error.code, name).toBe('ERR_MESHLESS_FILE_UNREADABLE');
      expect(error.context.file, name).toBe(file);
      expect(['ENOENT', 'ENOTDIR'], name).toContain(error.context.errno);
      expect(error.message, name).toContain(file);
    }
  });

  it('with waitForFiles, waits for a missing file and rejects with ERR_MESHLESS_STARTUP_TIMEOUT naming it', async () => {
    const dir = await tempDir();
    const error = await rejection(
      watchCertificateFiles({ dir, layout: 'cert-manager', startupTimeoutMs: 300, waitForFiles: true }),
    );
    expect(error.code).toBe('ERR_MESHLESS_STARTUP_TIMEOUT');
    expect(error.message).toContain(join(dir, 'tls.crt'));
    expect(error.message).toContain('ENOENT');
    expect(error.context).toMatchObject({
      reason: 'ERR_MESHLESS_FILE_UNREADABLE',
      file: join(dir, 'tls.crt'),
      errno: 'ENOENT',
    });
    expect((error.cause as MeshlessError).code).toBe('ERR_MESHLESS_FILE_UNREADABLE');
  });

  it('recognises the layout of a directory given without one (cert-manager or spiffe-helper)', async () => {
    const leaf = await makeLeaf(root);
    const certManager = await tempDir();
    await writeInPlace(certManager, certManagerFiles(leaf));
    const helper = await tempDir();
    await writeInPlace(helper, spiffeHelperFiles(leaf));
    for (const [dir, cert] of [
      [certManager, 'tls.crt'],
      [helper, 'svid.pem'],
    ] as const) {
      const source = autoClose(await watchCertificateFiles({ dir }));
      expect(source.status().files.cert).toBe(join(dir, cert));
      expect(source.current().identity.fingerprint256).toBe(fingerprintOf(leaf));
    }
  });

  it('with startupTimeoutMs 0 tries once and rejects at once', async () => {
    const dir = await tempDir();
    const started = Date.now();
    const error = await rejection(
      watchCertificateFiles({ dir, layout: 'spiffe-helper', startupTimeoutMs: 0 }),
    );
    expect(error.code).toBe('ERR_MESHLESS_STARTUP_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('rejects naming the reason when the files exist but are not valid (an expired certificate)', async () => {
    const dir = await tempDir();
    const expired = await makeLeaf(root, {
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    await writeInPlace(dir, certManagerFiles(expired));
    const error = await rejection(
      watchCertificateFiles({ dir, layout: 'cert-manager', startupTimeoutMs: 200 }),
    );
    expect(error.context).toMatchObject({ reason: 'ERR_MESHLESS_CERT_EXPIRED', file: join(dir, 'tls.crt') });
    expect(error.message).toMatch(/expired/);
  });

  it('waits for files that appear after the call (spiffe-helper starting alongside)', async () => {
    const dir = await tempDir();
    const leaf = await makeLeaf(root);
    const pending = watchCertificateFiles({ dir: join(dir, 'later'), layout: 'spiffe-helper' });
    await sleep(300);
    await writeInPlace(join(dir, 'later'), spiffeHelperFiles(leaf), { gapMs: 100 });
    const source = autoClose(await pending);
    expect(source.current().identity.fingerprint256).toBe(fingerprintOf(leaf));
  });

  it('resolves relative paths against the working directory and follows symlinked files', async () => {
    const dir = await tempDir();
    const leaf = await makeLeaf(root);
    const real = join(dir, 'real');
    await writeInPlace(real, certManagerFiles(leaf));
    await mkdir(join(dir, 'app'));
    for (const name of ['tls.crt', 'tls.key', 'ca.crt'])
      await symlink(join(real, name), join(dir, 'app', name));
    const source = autoClose(
      await watchCertificateFiles({ dir: join(dir, 'app', '..', 'app'), layout: 'cert-manager' }),
    );
    expect(source.status().files.cert).toBe(join(dir, 'app', 'tls.crt'));
    // The symlinks lead out of the directory: the targets' directory is watched too.
    expect(source.status().directories).toEqual([join(dir, 'app'), real].sort());
    const next = await makeLeaf(root);
    const seen = updateTo(source, fingerprintOf(next));
    await writeInPlace(real, { 'tls.crt': next.chainPem, 'tls.key': next.keyPem });
    await seen;
  });
});

describe('an encrypted key', () => {
  it('is read with the passphrase, and a rotated key encrypted the same way is picked up', async () => {
    const dir = await tempDir();
    const encrypt = (pem: string) =>
      createPrivateKey(pem).export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'correct horse',
      }) as string;
    const leaf = await makeLeaf(root);
    await writeInPlace(dir, { ...certManagerFiles(leaf), 'tls.key': encrypt(leaf.keyPem) });
    const wrong = await rejection(
      watchCertificateFiles({ dir, layout: 'cert-manager', startupTimeoutMs: 0, passphrase: 'wrong' }),
    );
    expect(wrong.context.reason).toBe('ERR_MESHLESS_KEY_DECRYPT_FAILED');
    const source = autoClose(
      await watchCertificateFiles({ dir, layout: 'cert-manager', passphrase: 'correct horse' }),
    );
    const next = await makeLeaf(root);
    const seen = updateTo(source, fingerprintOf(next));
    await writeInPlace(dir, { 'tls.crt': next.chainPem, 'tls.key': encrypt(next.keyPem) });
    expect((await seen).keyPem).toContain('BEGIN PRIVATE KEY');
  });
});

describe('a bundle in its own directory (trust-manager)', () => {
  it('reads ca.crt from caDir and picks up a bundle-only AtomicWriter update there', async () => {
    const dir = await tempDir();
    const leaf = await makeLeaf(root);
    await atomicWriterUpdate(join(dir, 'tls'), { 'tls.crt': leaf.chainPem, 'tls.key': leaf.keyPem });
    await atomicWriterUpdate(join(dir, 'trust'), { 'ca.crt': leaf.caPem });
    const source = autoClose(
      await watchCertificateFiles({
        dir: join(dir, 'tls'),
        layout: 'cert-manager',
        caDir: join(dir, 'trust'),
      }),
    );
    const events = record(source);
    expect(source.status().files.ca).toBe(join(dir, 'trust', 'ca.crt'));
    const next = await makeRoot({ trustDomain: 'next.example' });
    await atomicWriterUpdate(join(dir, 'trust'), { 'ca.crt': `${leaf.caPem}${next.rootPem}` });
    await new Promise<void>((resolve) => source.once('update', () => resolve()));
    expect(source.current().roots).toHaveLength(2);
    expect(events.errors).toEqual([]);
  });
});

describe('status()', () => {
  it('says what is served, when it changed, the rotations, the last error and the files', async () => {
    const dir = await tempDir();
    const leaf = await makeLeaf(root);
    const before = new Date();
    await writeInPlace(dir, certManagerFiles(leaf));
    const source = autoClose(await watchCertificateFiles({ dir, layout: 'cert-manager' }));
    const initial = source.status();
    expect(initial).toMatchObject({
      serving: {
        serialNumber: source.current().identity.serialNumber,
        spiffeId: 'spiffe://example.org/ns/default/sa/workload',
        fingerprint256: fingerprintOf(leaf),
        notAfter: source.current().notAfter,
      },
      failing: false,
      rotations: 0,
      files: { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') },
      directories: [dir],
    });
    expect(initial.lastError).toBeUndefined();
    expect(initial.lastChangedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());

    const errors = record(source).errors;
    const next = await makeLeaf(root);
    let seenInListener: number | undefined;
    source.once('update', () => {
      seenInListener = source.status().rotations;
    });
    const seen = updateTo(source, fingerprintOf(next));
    await writeInPlace(dir, certManagerFiles(next));
    await seen;
    expect(seenInListener).toBe(1);
    const after = source.status();
    expect(after.rotations).toBe(1);
    expect(after.serving.fingerprint256).toBe(fingerprintOf(next));
    expect(after.lastChangedAt.getTime()).toBeGreaterThan(initial.lastChangedAt.getTime());
    expect(after.lastError === undefined || errors.length > 0).toBe(true);
  });

  it('close() is idempotent and stops updates', async () => {
    const dir = await tempDir();
    await writeInPlace(dir, certManagerFiles(await makeLeaf(root)));
    const source = await watchCertificateFiles({ dir, layout: 'cert-manager', debounceMs: 10 });
    const events = record(source);
    await source.close();
    await source.close();
    await writeInPlace(dir, certManagerFiles(await makeLeaf(root)));
    await sleep(150);
    await source.refresh();
    expect(events.updates).toEqual([]);
    expect(source.closed).toBe(true);
  });
});
