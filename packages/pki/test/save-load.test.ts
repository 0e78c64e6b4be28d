import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadMaterial } from '@meshless/core';
import { CA_FILES, createCa, loadCa } from '@meshless/pki';
import { describe, expect, test } from 'vitest';
import { expectCode, modeOf, tempDir } from './helpers.js';

const TD = 'example.org';
const WEB = 'spiffe://example.org/ns/prod/sa/web';

describe('save and load', () => {
  test('a root round-trips: files, modes, contents, and it still issues', async () => {
    const dir = join(await tempDir(), 'nested', 'ca');
    const ca = await createCa({ trustDomain: TD, keyAlgorithm: 'ed25519', ttl: '30d' });
    const paths = await ca.save(dir);
    expect(paths).toEqual({
      cert: join(dir, 'ca.crt'),
      key: join(dir, 'ca.key'),
      bundle: join(dir, 'bundle.crt'),
    });
    expect((await readdir(dir)).sort()).toEqual(['bundle.crt', 'ca.crt', 'ca.key']);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(paths.key)).toBe(0o600);
    expect(await modeOf(paths.cert)).toBe(0o644);
    expect(await modeOf(paths.bundle)).toBe(0o644);
    expect(await readFile(paths.cert, 'utf8')).toBe(ca.chainPem);
    expect(await readFile(paths.key, 'utf8')).toBe(ca.keyPem);
    expect(await readFile(paths.bundle, 'utf8')).toBe(ca.caPem);

    const loaded = await loadCa(dir);
    expect(loaded.trustDomain.name).toBe(TD);
    expect(loaded.isRoot).toBe(true);
    expect(loaded.keyAlgorithm).toBe('ed25519');
    expect(loaded.certPem).toBe(ca.certPem);
    expect(loaded.chainPem).toBe(ca.chainPem);
    expect(loaded.caPem).toBe(ca.caPem);
    expect(loaded.keyPem).toBe(ca.keyPem);
    expect(loaded.serialNumber).toBe(ca.serialNumber);
    expect(loaded.notAfter).toEqual(ca.notAfter);

    const issued = await loaded.issue({ spiffeId: WEB });
    loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: ca.caPem });
  });

  test('an intermediate round-trips, and a second save replaces the files in place', async () => {
    const dir = await tempDir();
    const root = await createCa({ trustDomain: TD });
    const one = await root.createIntermediate({ keyAlgorithm: 'rsa-2048' });
    const two = await one.createIntermediate({ keyAlgorithm: 'ecdsa-p256' });
    await one.save(dir);
    await writeFile(join(dir, 'ca.key'), 'stale', { mode: 0o644 });
    await two.save(dir);
    expect((await readdir(dir)).sort()).toEqual(['bundle.crt', 'ca.crt', 'ca.key']); // no temporary files left
    expect(await modeOf(join(dir, 'ca.key'))).toBe(0o600);

    const loaded = await loadCa(dir);
    expect(loaded.isRoot).toBe(false);
    expect(loaded.chainPem).toBe(two.chainPem);
    expect(loaded.caPem).toBe(root.caPem);
    expect(loaded.keyAlgorithm).toBe('ecdsa-p256');
    const issued = await loaded.issue({ spiffeId: WEB, dnsNames: ['web'] });
    const material = loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
    expect(material.intermediates).toHaveLength(2);
    expect(issued.chainPem).toBe(issued.certPem + two.certPem + one.certPem);
  });

  test('a missing directory or file is ERR_MESHLESS_CA_INVALID naming the file', async () => {
    const dir = await tempDir();
    const err = await expectCode(
      loadCa(join(dir, 'nope')),
      'ERR_MESHLESS_CA_INVALID',
      /cannot read .*nope\/(ca\.crt|ca\.key|bundle\.crt)/,
    );
    expect(err.context.rule).toBe('file-unreadable');
    expect(String(err.context.file)).toContain(join(dir, 'nope'));

    await (await createCa({ trustDomain: TD })).save(dir);
    await rm(join(dir, CA_FILES.key));
    const missingKey = await expectCode(loadCa(dir), 'ERR_MESHLESS_CA_INVALID', /ca\.key/);
    expect(missingKey.context.file).toBe(join(dir, 'ca.key'));
  });

  test('garbage is ERR_MESHLESS_PEM_INVALID naming the file', async () => {
    const dir = await tempDir();
    await (await createCa({ trustDomain: TD })).save(dir);
    await writeFile(join(dir, 'ca.crt'), 'not a certificate');
    const err = await expectCode(loadCa(dir), 'ERR_MESHLESS_PEM_INVALID', /ca\.crt/);
    expect(err.context.file).toBe(join(dir, 'ca.crt'));
  });

  test("another CA's key is ERR_MESHLESS_KEY_MISMATCH", async () => {
    const dir = await tempDir();
    await (await createCa({ trustDomain: TD })).save(dir);
    await writeFile(join(dir, 'ca.key'), (await createCa({ trustDomain: TD })).keyPem);
    await expectCode(loadCa(dir), 'ERR_MESHLESS_KEY_MISMATCH', /ca\.key.*does not belong/);
  });

  test("another CA's bundle is ERR_MESHLESS_CHAIN_UNTRUSTED", async () => {
    const dir = await tempDir();
    const root = await createCa({ trustDomain: TD });
    await (await root.createIntermediate()).save(dir);
    await writeFile(join(dir, 'bundle.crt'), (await createCa({ trustDomain: TD })).caPem);
    await expectCode(loadCa(dir), 'ERR_MESHLESS_CHAIN_UNTRUSTED', /not issued by a root of the bundle/);
  });

  test('a workload certificate in ca.crt is ERR_MESHLESS_CA_INVALID', async () => {
    const dir = await tempDir();
    const ca = await createCa({ trustDomain: TD });
    const issued = await ca.issue({ spiffeId: WEB });
    await ca.save(dir);
    await writeFile(join(dir, 'ca.crt'), issued.certPem);
    await writeFile(join(dir, 'ca.key'), issued.keyPem);
    const err = await expectCode(loadCa(dir), 'ERR_MESHLESS_CA_INVALID', /cannot sign certificates/);
    expect(err.context.rule).toBe('not-a-ca');
  });

  test('a trust domain option that disagrees with the certificate is ERR_MESHLESS_TRUST_DOMAIN_MISMATCH', async () => {
    const dir = await tempDir();
    await (await createCa({ trustDomain: TD })).save(dir);
    await expectCode(loadCa(dir, { trustDomain: 'other.org' }), 'ERR_MESHLESS_TRUST_DOMAIN_MISMATCH');
    expect((await loadCa(dir, { trustDomain: TD })).trustDomain.name).toBe(TD);
  });
});
