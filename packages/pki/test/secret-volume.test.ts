import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeSecretVolume } from '../src/index.js';

const INVALID_OPTION = { code: 'ERR_MESHLESS_INVALID_OPTION' };

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeSecretVolume', () => {
  it('lays files out as the kubelet does and swaps them through ..data', async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshless-volume-'));
    const first = await writeSecretVolume(dir, { 'tls.crt': 'cert-1', 'tls.key': 'key-1', 'ca.crt': 'ca-1' });
    expect((await lstat(join(dir, 'tls.crt'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'tls.crt'))).toBe(join('..data', 'tls.crt'));
    expect(await readlink(join(dir, '..data'))).toBe(first.dataDir.slice(dir.length + 1));
    expect(await readFile(join(dir, 'tls.key'), 'utf8')).toBe('key-1');
    expect((await stat(join(dir, 'tls.key'))).mode & 0o777).toBe(0o600);

    const second = await writeSecretVolume(dir, { 'tls.crt': 'cert-2', 'tls.key': 'key-2' });
    expect(await readFile(join(dir, 'tls.crt'), 'utf8')).toBe('cert-2');
    const entries = await readdir(dir);
    // The old payload directory and the name dropped from the payload are gone; no ..data_tmp is left.
    expect(entries.sort()).toEqual(
      ['..data', second.dataDir.slice(dir.length + 1), 'tls.crt', 'tls.key'].sort(),
    );
    expect(second.swappedAt).toBeGreaterThan(first.swappedAt);
  });

  it('refuses nested or hidden names', async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshless-volume-'));
    await expect(writeSecretVolume(dir, { 'a/b': 'x' })).rejects.toMatchObject(INVALID_OPTION);
    await expect(writeSecretVolume(dir, { '..data': 'x' })).rejects.toMatchObject(INVALID_OPTION);
  });
});
