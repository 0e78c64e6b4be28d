// The bad-input catalogue, table-driven: each bad file set is written to disk, read back and offered
// to a running meshless service. It must be refused with its own MeshlessError code, blaming the
// right input, and the service must keep serving its last good certificate. Tricky-but-valid file
// sets are accepted and served to new connections.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMeshlessError, loadMaterial } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BAD_INPUTS,
  type Fixtures,
  filesOf,
  GOOD_INPUTS,
  makeFixtures,
  WORKLOAD_ID,
} from './support/bad-inputs.js';
import { loadFromFiles, type Service, startService, writeMaterialFiles } from './support/service.js';

let fixtures: Fixtures;
let service: Service;
const base = join(tmpdir(), `meshless-faults-${process.pid}-${Date.now()}`);
let n = 0;

beforeAll(async () => {
  fixtures = await makeFixtures();
  service = await startService(fixtures.root, loadMaterial(filesOf(fixtures.good)));
});

afterAll(async () => {
  await service?.stop();
  await rm(base, { recursive: true, force: true });
});

it('the catalogue holds at least 30 bad inputs, each named once', () => {
  expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
  expect(new Set(BAD_INPUTS.map((c) => c.name)).size).toBe(BAD_INPUTS.length);
});

describe('a bad file set is refused with its code, and the service keeps serving', () => {
  it.each(BAD_INPUTS)('$name: $code', async ({ make, code, input, passphrase }) => {
    const before = await service.serving();
    const written = await writeMaterialFiles(join(base, String(n++)), await make(fixtures));

    let error: unknown;
    try {
      service.source.set(await loadFromFiles(written.paths, passphrase));
    } catch (err) {
      error = err;
    }
    if (!isMeshlessError(error))
      throw new Error(`expected ${code}, got ${error ? String(error) : 'no error'}`);
    expect(error.code, error.message).toBe(code);
    expect(error.context.input).toBe(input);
    // What a source does with refused material: report it and keep the current one.
    service.source.fail(error);
    expect(service.errors.at(-1)?.code).toBe(code);

    expect(service.source.current().leaf.serialNumber).toBe(before);
    expect(await service.serving()).toBe(before);
  });
});

describe('a tricky-but-valid file set is accepted and served to new connections', () => {
  it.each(GOOD_INPUTS)('$name', async ({ make, passphrase }) => {
    const written = await writeMaterialFiles(join(base, String(n++)), await make(fixtures));
    const material = await loadFromFiles(written.paths, passphrase);
    expect(String(material.identity.spiffeId)).toBe(WORKLOAD_ID);
    expect(service.source.set(material)).toBe(true);
    expect(await service.serving()).toBe(material.leaf.serialNumber);
  });
});
