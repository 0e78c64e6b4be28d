// The bad-input catalogue, table-driven: each bad file set is swapped into the secret volume a running
// meshless service watches (watchCertificateFiles, cert-manager layout, written as the kubelet writes).
// It must be refused with its own MeshlessError code, blaming the right input and naming its file,
// and the service must keep serving its last good certificate. Tricky-but-valid file sets are
// accepted and served to new connections.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BAD_INPUTS,
  type Fixtures,
  filesOf,
  GOOD_INPUTS,
  makeFixtures,
  WORKLOAD_ID,
} from './support/bad-inputs.js';
import { errorAfter, type Service, startWatchedService } from './support/service.js';

const FILE_OF = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;
const base = join(tmpdir(), `meshless-faults-${process.pid}-${Date.now()}`);

let fixtures: Fixtures;
type Watched = Awaited<ReturnType<typeof startWatchedService>>;
/** One service per passphrase setting: none, and 'right'. */
const services = new Map<string | undefined, Watched & { dir: string }>();

beforeAll(async () => {
  fixtures = await makeFixtures();
  for (const passphrase of [undefined, 'right']) {
    const dir = join(base, passphrase ?? 'plain');
    const service = await startWatchedService(fixtures.root, dir, filesOf(fixtures.good), { passphrase });
    services.set(passphrase, { ...service, dir });
  }
});

afterAll(async () => {
  for (const service of services.values()) await service.stop();
  await rm(base, { recursive: true, force: true });
});

function serviceFor(passphrase: string | undefined) {
  const service = services.get(passphrase);
  if (!service) throw new Error(`no service for passphrase ${passphrase}`);
  return service;
}

async function servedSoon(service: Service, serial: string): Promise<string> {
  const deadline = performance.now() + 2_000;
  let served = await service.serving();
  while (served !== serial && performance.now() < deadline) {
    await sleep(20);
    served = await service.serving();
  }
  return served;
}

it('the catalogue holds at least 30 bad inputs, each named once', () => {
  expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
  expect(new Set(BAD_INPUTS.map((c) => c.name)).size).toBe(BAD_INPUTS.length);
});

describe('a bad file set is refused with its code, and the service keeps serving', () => {
  it.each(BAD_INPUTS)('$name: $code', async ({ make, code, input, passphrase }) => {
    const service = serviceFor(passphrase);
    const before = await service.serving();
    const since = await service.write(await make(fixtures));

    const error = await errorAfter(service, since);
    expect(error.code, error.message).toBe(code);
    expect(error.context.input).toBe(input);
    if (input === 'cert' || input === 'key' || input === 'ca') {
      expect(error.context.file).toBe(join(service.dir, FILE_OF[input]));
    }
    expect(service.source.current().leaf.serialNumber).toBe(before);
    expect(await service.serving()).toBe(before);
  });
});

describe('a tricky-but-valid file set is accepted and served to new connections', () => {
  it.each(GOOD_INPUTS)('$name', async ({ make, passphrase }) => {
    const service = serviceFor(passphrase);
    const files = await make(fixtures);
    const updated = new Promise<string>((resolve) =>
      service.source.once('update', (material) => resolve(material.leaf.serialNumber)),
    );
    const since = await service.write(files);
    const serial = await Promise.race([
      updated,
      errorAfter(service, since).then((e) => {
        throw new Error(`refused: ${e.code} ${e.message}`);
      }),
    ]);
    expect(String(service.source.current().identity.spiffeId)).toBe(WORKLOAD_ID);
    expect(await servedSoon(service, serial)).toBe(serial);
  });
});
