import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadMaterial } from '@meshless/core';
import { createCa, type IssuedCertificate, LAYOUT_FILES, type Layout, writeLayout } from '@meshless/pki';
import { beforeAll, describe, expect, test } from 'vitest';
import { modeOf, tempDir } from './helpers.js';

const INVALID_OPTION = { code: 'ERR_MESHLESS_INVALID_OPTION' };

let issued: IssuedCertificate;

beforeAll(async () => {
  const root = await createCa({ trustDomain: 'example.org' });
  const intermediate = await root.createIntermediate();
  issued = await intermediate.issue({ spiffeId: 'spiffe://example.org/ns/prod/sa/web' });
});

describe.each([
  ['cert-manager', ['ca.crt', 'tls.crt', 'tls.key']],
  ['spiffe-helper', ['svid.pem', 'svid_bundle.pem', 'svid_key.pem']],
] as const)('writeLayout %s', (layout: Layout, names) => {
  test('writes the chain, key and bundle with their modes, and nothing else', async () => {
    const dir = join(await tempDir(), 'a', 'b');
    const paths = await writeLayout(dir, issued, layout);
    const files = LAYOUT_FILES[layout];
    expect(paths).toEqual({
      cert: join(dir, files.cert),
      key: join(dir, files.key),
      ca: join(dir, files.ca),
    });
    expect((await readdir(dir)).sort()).toEqual([...names]);
    expect(await readFile(paths.cert, 'utf8')).toBe(issued.chainPem);
    expect(await readFile(paths.key, 'utf8')).toBe(issued.keyPem);
    expect(await readFile(paths.ca, 'utf8')).toBe(issued.caPem);
    expect(await modeOf(paths.key)).toBe(0o600);
    expect(await modeOf(paths.cert)).toBe(0o644);
    expect(await modeOf(paths.ca)).toBe(0o644);
    const material = loadMaterial({
      cert: await readFile(paths.cert),
      key: await readFile(paths.key),
      ca: await readFile(paths.ca),
      files: paths,
    });
    expect(material.intermediates).toHaveLength(1);
  });

  test('replaces existing files atomically and tightens a loose key mode', async () => {
    const dir = await tempDir();
    const files = LAYOUT_FILES[layout];
    await writeFile(join(dir, files.key), 'old key', { mode: 0o666 });
    await writeFile(join(dir, files.cert), 'old cert');
    const paths = await writeLayout(dir, issued, layout);
    expect(await modeOf(paths.key)).toBe(0o600);
    expect(await readFile(paths.key, 'utf8')).toBe(issued.keyPem);
    expect(await readFile(paths.cert, 'utf8')).toBe(issued.chainPem);
    expect((await readdir(dir)).sort()).toEqual([...names]);
  });
});

test('the layout defaults to cert-manager', async () => {
  const dir = await tempDir();
  const paths = await writeLayout(dir, issued);
  expect(paths.cert).toBe(join(dir, 'tls.crt'));
});

test('bad arguments are ERR_MESHLESS_INVALID_OPTION, and nothing is written', async () => {
  const dir = await tempDir();
  await expect(writeLayout(dir, issued, 'k8s' as Layout)).rejects.toThrow(/layout must be/);
  await expect(writeLayout(dir, issued, 'toString' as Layout)).rejects.toMatchObject(INVALID_OPTION);
  await expect(writeLayout(dir, { ...issued, keyPem: '' })).rejects.toThrow(/issued\.keyPem/);
  await expect(writeLayout('', issued)).rejects.toMatchObject(INVALID_OPTION);
  expect(await readdir(dir)).toEqual([]);
});

test('a failed write removes its temporary file', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'tls.crt')); // rename over a directory fails
  await expect(writeLayout(dir, issued)).rejects.toThrow();
  expect((await readdir(dir)).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
  expect(await readFile(join(dir, 'tls.key'), 'utf8')).toBe(issued.keyPem);
});
