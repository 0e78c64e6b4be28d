import { beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { loadMaterial, MeshlessError, memorySource, type TlsMaterial } from '../src/index.js';

let root: TestCa;
beforeAll(async () => {
  root = await makeRoot();
});

describe('withdrawn material', () => {
  it('makes current() throw until material is offered again, even the same material', async () => {
    const material = loadMaterial(materialOf(await makeLeaf(root)));
    const source = memorySource(material);
    const events: string[] = [];
    const updates: TlsMaterial[] = [];
    source.on('withdrawn', (err) => events.push(`withdrawn ${err.code}`));
    source.on('error', (err) => events.push(`error ${err.code}`));
    source.on('update', (m) => updates.push(m));
    const error = new MeshlessError('ERR_MESHLESS_CERT_EXPIRED', 'taken back');
    source.withdraw(error);
    source.withdraw(error);
    expect(events).toEqual(['withdrawn ERR_MESHLESS_CERT_EXPIRED', 'error ERR_MESHLESS_CERT_EXPIRED']);
    expect(() => source.current()).toThrow(error);
    expect(source.withdrawal).toBe(error);
    expect(source.set(material)).toBe(true);
    expect(updates).toEqual([material]);
    expect(source.current()).toBe(material);
    expect(source.withdrawal).toBeUndefined();
    expect(source.set(material)).toBe(false);
    await source.close();
  });
});
