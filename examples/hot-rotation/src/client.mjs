// The client: steady load through createFetch, counting requests and failures, and noting when a
// fresh connection first meets each server certificate.
import diagnostics from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createFetch } from '@meshless/client';
import { channels, loadMaterial, staticSource } from '@meshless/core';
import { loadCa } from '@meshless/pki';
import { CLIENT_ID, SERVICE_ID } from './identities.mjs';
import { isMain } from './run-directly.mjs';

/**
 * Sends `GET url` from `concurrency` workers until `stop()`. Connections are renewed every
 * `connectionAgeMs` and never resume a TLS session, so each new connection makes a full handshake
 * and sees the certificate the server serves at that moment (a resumed session carries the
 * certificate of the handshake that made it).
 */
export function startClient({ source, url, serverId = SERVICE_ID, concurrency = 4, connectionAgeMs = 100 }) {
  const fetch = createFetch({
    source,
    authorizeServer: serverId,
    maxConnectionAgeMs: connectionAgeMs,
    connect: { maxCachedSessions: 0 },
  });
  const stats = {
    requests: 0,
    failures: 0,
    failureSamples: [],
    freshSerials: new Map(),
    answered: new Set(),
  };

  // What the client itself verified on each full handshake: the server's certificate, not its word.
  const address = new URL(url).host;
  const onVerified = (message) => {
    if (message.address !== address || message.decision !== 'allow' || message.resumed) return;
    const serial = message.peer?.serialNumber;
    if (serial && !stats.freshSerials.has(serial)) stats.freshSerials.set(serial, performance.now());
  };
  diagnostics.subscribe(channels.serverVerification, onVerified);

  let running = true;
  const worker = async () => {
    while (running) {
      stats.requests++;
      try {
        const answer = await fetch(url);
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
        stats.answered.add((await answer.json()).serial);
      } catch (error) {
        stats.failures++;
        if (stats.failureSamples.length < 5) stats.failureSamples.push(error.cause?.code ?? error.message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);

  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(workers);
      diagnostics.unsubscribe(channels.serverVerification, onVerified);
      await fetch.close();
      return stats;
    },
  };
}

/** A client identity issued on the spot from the CA saved in `caDir`. */
export async function clientSource(caDir, spiffeId = CLIENT_ID) {
  const issued = await (await loadCa(caDir)).issue({ spiffeId });
  return staticSource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem }));
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      ca: { type: 'string', default: 'ca' },
      url: { type: 'string', default: 'https://127.0.0.1:8443' },
    },
  });
  const client = startClient({ source: await clientSource(values.ca), url: values.url });
  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
  });
  let reported = 0;
  while (!stopping) {
    await sleep(1000);
    const { requests, failures, freshSerials } = client.stats;
    console.log(
      `${requests - reported} requests/s, ${failures} failed in all, ${freshSerials.size} serials seen`,
    );
    reported = requests;
  }
  const { requests, failures, freshSerials } = await client.stop();
  console.log(
    `${requests} requests, ${failures} failed; serials seen by fresh connections: ${[...freshSerials.keys()].join(', ')}`,
  );
}
