// The three parts together: a CA saved in a directory, the service on a secret volume, the client's
// load, and a rotation every `everyMs`. Resolves with what was measured; main.mjs prints it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCa } from '@meshless/pki';
import { clientSource, startClient } from './client.mjs';
import { TRUST_DOMAIN } from './identities.mjs';
import { createRotator, rotateEvery } from './rotate.mjs';
import { startService } from './service.mjs';

/** Runs `rotations` rotations, `everyMs` apart, under load; resolves with the report. */
export async function runHotRotation({ rotations = 4, everyMs = 800 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-hot-rotation-'));
  const caDir = join(dir, 'ca');
  const volume = join(dir, 'tls');
  const cleanup = [];
  try {
    await (await createCa({ trustDomain: TRUST_DOMAIN })).save(caDir);
    const rotator = await createRotator({ caDir, dir: volume });
    const first = await rotator.rotate(); // the certificate the service starts with

    const service = await startService({ dir: volume });
    cleanup.push(() => service.close());
    const client = startClient({ source: await clientSource(caDir), url: service.url });
    cleanup.push(() => client.stop());

    const swaps = [];
    const rotation = rotateEvery(rotator, everyMs, (swap) => swaps.push(swap));
    while (swaps.length < rotations) await sleep(20);
    await rotation.stop();
    await sleep(everyMs); // time for the last one to land
    const stats = await client.stop();
    cleanup.pop();

    return {
      dir,
      firstSerial: first.serial,
      rotations: swaps.map(({ serial, swappedAt }) => {
        const seenAt = stats.freshSerials.get(serial);
        return { serial, pickupMs: seenAt === undefined ? undefined : Math.round(seenAt - swappedAt) };
      }),
      appliedByWatcher: service.source.status().rotations,
      requests: stats.requests,
      failures: stats.failures,
      failureSamples: stats.failureSamples,
      serialsSeenFresh: [...stats.freshSerials.keys()],
      serialsAnswered: [...stats.answered],
    };
  } finally {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
