// The rotation: a new certificate from the CA saved in a directory, swapped in the way the kubelet
// updates a secret volume (new payload directory, one atomic rename of `..data`), never by
// rewriting tls.crt in place.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadCa, parseDuration, writeSecretVolume } from '@meshless/pki';
import { SERVICE_ID } from './identities.mjs';
import { isMain } from './run-directly.mjs';

/**
 * Loads the CA saved in `caDir` (by `ca.save()` or `meshless ca create`) and returns `rotate()`,
 * which issues a certificate for `spiffeId` and swaps it into the secret volume `dir`, resolving
 * with its serial and `swappedAt` (`performance.now()` right after the swap).
 */
export async function createRotator({ caDir, dir, spiffeId = SERVICE_ID, ttl = '1h' }) {
  const ca = await loadCa(caDir);
  return {
    async rotate() {
      const issued = await ca.issue({ spiffeId, ttl });
      const { swappedAt } = await writeSecretVolume(dir, {
        'tls.crt': issued.chainPem,
        'tls.key': issued.keyPem,
        'ca.crt': issued.caPem,
      });
      return { serial: issued.serialNumber, swappedAt };
    },
  };
}

/** Rotates every `everyMs` until `stop()`; `onRotation` gets each result. */
export function rotateEvery(rotator, everyMs, onRotation = () => {}) {
  let running = true;
  const loop = (async () => {
    while (running) {
      await sleep(everyMs);
      if (running) onRotation(await rotator.rotate());
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      ca: { type: 'string', default: 'ca' },
      dir: { type: 'string', default: 'tls' },
      'spiffe-id': { type: 'string', default: SERVICE_ID },
      every: { type: 'string' },
    },
  });
  const rotator = await createRotator({ caDir: values.ca, dir: values.dir, spiffeId: values['spiffe-id'] });
  const log = ({ serial }) => console.log(`${new Date().toISOString()} swapped in ${serial}`);
  log(await rotator.rotate());
  // Without --every: rotate once (also how the first certificate gets there).
  if (values.every) {
    const rotation = rotateEvery(rotator, parseDuration(values.every), log);
    process.once('SIGINT', () => void rotation.stop());
  }
}
