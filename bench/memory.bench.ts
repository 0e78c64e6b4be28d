// Memory (issue 9): resident memory of an idle and a loaded meshless service against the
// hand-written node:https service (the difference is what meshless adds), and of the sidecar model
// (nginx master and worker plus the node:http app). Fresh processes each round: memory depends on
// history, and a process reused from another scenario would carry that scenario's heap.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'vitest';
import { makeCertFiles, removeCertFiles } from './lib/certs.js';
import { runGenerator, startServer } from './lib/child.js';
import type { LoadConfig, LoadResult } from './lib/messages.js';
import { startNginx } from './lib/nginx.js';
import { pssKb, rssKb } from './lib/proc.js';
import { environment, knob, print, table, verdict, verdictLine, writeResults } from './lib/report.js';
import { cell, spread } from './lib/stats.js';

const ROUNDS = knob('BENCH_MEMORY_ROUNDS', 3);
const CONNECTIONS = knob('BENCH_MEMORY_CONNECTIONS', 128);
const LOAD_MS = knob('BENCH_MEMORY_LOAD_MS', 2000);
const SETTLE_MS = 1000;
const MB = 1024;

type Service = 'https' | 'https-x509' | 'meshless' | 'sidecar';
const LABELS: Record<Service, string> = {
  https: 'node:https hand-written',
  // The same server with @peculiar/x509 (which @meshless/core reads certificates with) imported:
  // splits what meshless adds into that dependency and the rest.
  'https-x509': 'node:https hand-written + @peculiar/x509 imported',
  meshless: 'meshless createServer',
  sidecar: 'nginx sidecar + node:http app',
};

interface Sample {
  /** Per process, in the order of `processes`. */
  idleRssKb: number[];
  idlePssKb: number[];
  loadedRssKb: number[];
  loadedPssKb: number[];
  processes: string[];
  errors: number;
}

async function measure(service: Service, certs: Awaited<ReturnType<typeof makeCertFiles>>): Promise<Sample> {
  const prefix = await mkdtemp(join(tmpdir(), 'meshless-bench-nginx-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    let url: string;
    let pids: number[];
    let processes: string[];
    if (service === 'sidecar') {
      const app = await startServer({ kind: 'sidecar-app' });
      stops.push(app.stop);
      const nginx = await startNginx(prefix, app.port, certs);
      stops.unshift(nginx.stop);
      url = `https://127.0.0.1:${nginx.port}/`;
      pids = [...nginx.pids, app.pid];
      processes = ['nginx master', ...nginx.pids.slice(1).map(() => 'nginx worker'), 'node:http app'];
    } else {
      const server = await startServer(
        service === 'https-x509'
          ? { kind: 'https', certs, preload: ['reflect-metadata', '@peculiar/x509'] }
          : { kind: service, certs },
      );
      stops.push(server.stop);
      url = `https://127.0.0.1:${server.port}/`;
      pids = [server.pid];
      processes = [LABELS[service]];
    }
    // Idle: started, listening, one request served (so that lazily loaded code is in), then left alone.
    await runGenerator<LoadResult>('load', {
      url,
      connections: 1,
      warmupMs: 50,
      durationMs: 100,
      client: 'undici',
      certs,
      serverPids: pids,
    } satisfies LoadConfig);
    await sleep(SETTLE_MS);
    const idleRssKb = pids.map(rssKb);
    const idlePssKb = pids.map(pssKb);
    const loaded = await runGenerator<LoadResult>('load', {
      url,
      connections: CONNECTIONS,
      warmupMs: 500,
      durationMs: LOAD_MS,
      client: 'undici',
      certs,
      serverPids: pids,
    } satisfies LoadConfig);
    return {
      idleRssKb,
      idlePssKb,
      loadedRssKb: loaded.serverRssKb,
      loadedPssKb: loaded.serverPssKb,
      processes,
      errors: loaded.errors,
    };
  } finally {
    for (const stop of stops) await stop();
    await rm(prefix, { recursive: true, force: true });
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const TIMEOUT_MS = 60_000 + ROUNDS * 4 * (LOAD_MS + SETTLE_MS + 20_000);

it(
  'memory: idle and loaded resident memory',
  async () => {
    const before = environment();
    const certs = await makeCertFiles('ecdsa-p256');
    const samples: Record<Service, Sample[]> = { https: [], 'https-x509': [], meshless: [], sidecar: [] };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const order: Service[] = ['https', 'https-x509', 'meshless', 'sidecar'];
        for (let i = 0; i < round; i++) order.push(order.shift()!);
        for (const service of order) samples[service].push(await measure(service, certs));
      }
    } finally {
      await removeCertFiles(certs);
    }
    const mb = (kb: number) => kb / MB;
    const pick = (service: Service, f: (s: Sample) => number) => spread(samples[service].map(f).map(mb));
    const rows = (Object.keys(LABELS) as Service[]).map((service) => [
      LABELS[service],
      cell(pick(service, (s) => sum(s.idleRssKb))),
      cell(pick(service, (s) => sum(s.loadedRssKb))),
      cell(pick(service, (s) => sum(s.idlePssKb))),
      cell(pick(service, (s) => sum(s.loadedPssKb))),
      samples[service].reduce((n, s) => n + s.errors, 0),
    ]);
    // What meshless adds: round by round, meshless minus node:https.
    const added = (f: (s: Sample) => number, base: Service = 'https') =>
      spread(samples.meshless.map((s, i) => mb(f(s) - f(samples[base][i]!))));
    const sidecarParts = samples.sidecar[0]!.processes.map((name, p) => [
      name,
      cell(spread(samples.sidecar.map((s) => mb(s.idleRssKb[p]!)))),
      cell(spread(samples.sidecar.map((s) => mb(s.loadedRssKb[p]!)))),
      cell(spread(samples.sidecar.map((s) => mb(s.idlePssKb[p]!)))),
      cell(spread(samples.sidecar.map((s) => mb(s.loadedPssKb[p]!)))),
    ]);
    const addedIdle = added((s) => sum(s.idleRssKb));
    const addedLoaded = added((s) => sum(s.loadedRssKb));
    const x509Idle = spread(
      samples['https-x509'].map((s, i) => mb(sum(s.idleRssKb) - sum(samples.https[i]!.idleRssKb))),
    );
    const x509Loaded = spread(
      samples['https-x509'].map((s, i) => mb(sum(s.loadedRssKb) - sum(samples.https[i]!.loadedRssKb))),
    );
    const restIdle = added((s) => sum(s.idleRssKb), 'https-x509');
    const restLoaded = added((s) => sum(s.loadedRssKb), 'https-x509');
    const verdicts = [
      verdict('under 10 MB of added resident memory, idle and loaded', [
        addedIdle.median < 10,
        addedLoaded.median < 10,
      ]),
    ];
    const after = environment();
    print(
      [
        `Memory: ${ROUNDS} rounds, fresh processes; loaded = ${CONNECTIONS} keep-alive connections at the end of ${LOAD_MS} ms of load; MB, median (min–max)`,
        table(['service', 'idle RSS', 'loaded RSS', 'idle PSS', 'loaded PSS', 'errors'], rows),
        '',
        'The sidecar model by process',
        table(['process', 'idle RSS', 'loaded RSS', 'idle PSS', 'loaded PSS'], sidecarParts),
        '',
        table(
          ['RSS added, MB (paired by round)', 'idle', 'loaded'],
          [
            ['meshless minus node:https', cell(addedIdle), cell(addedLoaded)],
            ['of which @peculiar/x509 and its dependencies', cell(x509Idle), cell(x509Loaded)],
            ['of which the rest of meshless', cell(restIdle), cell(restLoaded)],
          ],
        ),
        '',
        ...verdicts.map(verdictLine),
        `load average before ${JSON.stringify(before.loadAverage)}, after ${JSON.stringify(after.loadAverage)}`,
      ].join('\n'),
    );
    await writeResults('memory', {
      benchmark: 'memory',
      environment: before,
      loadAverageAfter: after.loadAverage,
      settings: { rounds: ROUNDS, connections: CONNECTIONS, loadMs: LOAD_MS, settleMs: SETTLE_MS },
      addedMb: { idle: addedIdle, loaded: addedLoaded },
      x509Mb: { idle: x509Idle, loaded: x509Loaded },
      restMb: { idle: restIdle, loaded: restLoaded },
      verdicts,
      samples,
    });
  },
  TIMEOUT_MS,
);
