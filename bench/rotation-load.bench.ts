// Rotation under load (issue 9): a meshless server on a @meshless/watcher source over a Kubernetes
// secret volume serves a steady load while its certificate is swapped 50 times, kubelet style. For
// each swap: the time from the rename of `..data` to the first new connection (a full handshake,
// no session) that is served the new serial; over the whole run: requests that failed.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { writeSecretVolume } from '@meshless/pki';
import { it } from 'vitest';
import { type CertFiles, issueServerLeaf, makeCa, makeCertFiles, removeCertFiles } from './lib/certs.js';
import { startOpenEndedLoad, startServer } from './lib/child.js';
import type { LoadConfig, LoadResult } from './lib/messages.js';
import {
  environment,
  knob,
  loadAverageLine,
  print,
  resultsHeader,
  table,
  verdict,
  verdictLine,
  writeResults,
} from './lib/report.js';
import { round } from './lib/stats.js';

const SWAPS = knob('BENCH_SWAPS', 50);
const CONNECTIONS = knob('BENCH_ROTATION_CONNECTIONS', 16);
// Every 25th request of each connection closes it, so that new connections (resumed or not) keep
// being made while the certificate changes, not only requests on old ones.
const RESET_EVERY = 25;
const PICKUP_TIMEOUT_MS = 5000;
const TARGET_P99_MS = 1000;

/**
 * Connects without a session (a full handshake) and returns the serial the server presented. The
 * probe closes cleanly (end, then the server's end), so that the server counts no TLS error for it
 * and the errors it reports are the load's.
 */
function servedSerial(port: number, context: tls.SecureContext): Promise<string> {
  return new Promise((resolve, reject) => {
    let serial = '';
    const socket = tls.connect({ host: '127.0.0.1', port, secureContext: context });
    socket.once('secureConnect', () => {
      serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
      socket.end();
    });
    socket.resume();
    socket.once('close', () => resolve(serial));
    socket.once('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  // Nearest rank: with 50 samples, p99 is the slowest.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

it(`rotation under load: ${SWAPS} kubelet-style swaps, pickup by new connections, failed requests`, async () => {
  const before = environment();
  const ca = await makeCa('ecdsa-p256');
  const certs: CertFiles = await makeCertFiles('ecdsa-p256', ca);
  const leaves = await Promise.all(Array.from({ length: SWAPS + 1 }, () => issueServerLeaf(ca)));
  const volume = await mkdtemp(join(tmpdir(), 'meshless-bench-volume-'));
  const files = (i: number) => ({
    'tls.crt': leaves[i]!.chainPem,
    'tls.key': leaves[i]!.keyPem,
    'ca.crt': leaves[i]!.caPem,
  });
  await writeSecretVolume(volume, files(0));
  const server = await startServer({ kind: 'meshless-watch', certs, watchDir: volume });
  const context = tls.createSecureContext({
    cert: await readFile(certs.clientCert),
    key: await readFile(certs.clientKey),
    ca: await readFile(certs.ca),
  });
  const pickups: number[] = [];
  let missed = 0;
  let probes = 0;
  let load: ReturnType<typeof startOpenEndedLoad<LoadResult>> | undefined;
  let result: LoadResult | undefined;
  let stats: Awaited<ReturnType<typeof server.stats>> | undefined;
  try {
    load = startOpenEndedLoad<LoadResult>({
      url: `https://127.0.0.1:${server.port}/`,
      connections: CONNECTIONS,
      warmupMs: 1000,
      client: 'meshless',
      certs,
      serverPids: [server.pid],
      resetEvery: RESET_EVERY,
    } satisfies Omit<LoadConfig, 'durationMs'>);
    await load.measuring;
    for (let i = 1; i <= SWAPS; i++) {
      const serial = new X509Certificate(leaves[i]!.certPem).serialNumber.toUpperCase();
      const { swappedAt } = await writeSecretVolume(volume, files(i));
      let seenAt: number | undefined;
      while (performance.now() - swappedAt < PICKUP_TIMEOUT_MS) {
        probes++;
        const served = await servedSerial(server.port, context);
        if (served.toUpperCase() === serial) {
          seenAt = performance.now();
          break;
        }
        await sleep(2);
      }
      if (seenAt === undefined) missed++;
      else pickups.push(seenAt - swappedAt);
      // Let the volume settle, as between two real rotations.
      await sleep(50);
    }
    result = await load.stop();
    stats = await server.stats();
  } finally {
    await server.stop();
    await rm(volume, { recursive: true, force: true });
    await removeCertFiles(certs);
  }
  const sorted = [...pickups].sort((a, b) => a - b);
  const summary = {
    swaps: SWAPS,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    missed,
    probes,
    requests: result.requests,
    failedRequests: result.errors,
    firstError: result.firstError,
    serverTlsErrors: stats.tlsErrors,
    serverConnections: stats.connections,
    resumedConnections: stats.resumed,
    perSecond: round(result.perSecond, 0),
  };
  const verdicts = [
    verdict(`rotation pickup p99 under ${TARGET_P99_MS} ms with zero failed requests`, [
      summary.p99 < TARGET_P99_MS,
      summary.failedRequests === 0,
      missed === 0,
    ]),
  ];
  const after = environment();
  print(
    [
      `Rotation under load: ${SWAPS} secret-volume swaps, ${CONNECTIONS} connections of meshless createAgent (every ${RESET_EVERY}th request on a new connection)`,
      table(
        [
          'pickup p50 ms',
          'p90 ms',
          'p99 ms',
          'max ms',
          'missed',
          'requests',
          'failed',
          'req/s',
          'connections (resumed)',
          'server TLS errors',
        ],
        [
          [
            summary.p50,
            summary.p90,
            summary.p99,
            summary.max,
            missed,
            summary.requests,
            summary.failedRequests,
            summary.perSecond,
            `${summary.serverConnections} (${summary.resumedConnections})`,
            summary.serverTlsErrors,
          ],
        ],
      ),
      ...verdicts.map(verdictLine),
      summary.firstError ? `first error: ${summary.firstError}` : '',
      loadAverageLine(before, after),
    ].join('\n'),
  );
  await writeResults('rotation-load', {
    ...resultsHeader('rotation-under-load', before, after),
    settings: { swaps: SWAPS, connections: CONNECTIONS, resetEvery: RESET_EVERY, targetP99Ms: TARGET_P99_MS },
    summary,
    verdicts,
    pickupsMs: pickups.map((ms) => round(ms, 2)),
  });
});
