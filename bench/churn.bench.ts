// Memory under connection churn (issue 16): 100,000 short mutual-TLS connections (a full handshake
// and one request each) to a strict meshless server and to a bare node:https server with the same
// TLS settings, in the same run, each in a fresh process; resident memory read after forced garbage
// collection every 10,000 connections, and the slope over the last half of the run reported (a server
// that levels off has a slope near zero). A third server, node:https reading the peer with Node's
// getPeerX509Certificate(), shows the Node 20 leak meshless no longer goes through
// (docs/performance.md, "Memory under connection churn").
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'vitest';
import { PROCESSES_DIR } from './lib/build.js';
import { makeCertFiles, removeCertFiles } from './lib/certs.js';
import type { ChurnServerKind, ChurnServerMessage } from './lib/messages.js';
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

const CONNECTIONS = knob('BENCH_CHURN_CONNECTIONS', 100_000);
const EVERY = knob('BENCH_CHURN_EVERY', 10_000);
const CONCURRENCY = knob('BENCH_CHURN_CONCURRENCY', 8);
/**
 * How much more than the bare server meshless may grow from the first sample to the last, and how
 * much steeper it may rise over the last half. (It starts higher by what loading its modules costs,
 * which bench:memory measures; churn is about growth.)
 */
const GROWTH_MARGIN_MIB = 5;
const SLOPE_MARGIN_KIB_PER_1000 = 20;

const KINDS: ChurnServerKind[] = ['https', 'meshless', 'https-x509'];
const LABELS: Record<ChurnServerKind, string> = {
  https: 'node:https, bare',
  meshless: 'meshless createServer',
  'https-x509': 'node:https + getPeerX509Certificate()',
};

interface Series {
  kind: ChurnServerKind;
  /** [connections made, RSS in kB after forced GC]. */
  samples: [number, number][];
  failed: number;
  /** Least-squares slope over the last half of the samples, KiB per 1000 connections. */
  slopeKibPer1000: number;
}

function forkProcess(script: string, config: unknown, execArgv: string[] = []): ChildProcess {
  return fork(join(PROCESSES_DIR, `${script}.js`), [JSON.stringify(config)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function reply<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Slope of y over x by least squares. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function churn(
  kind: ChurnServerKind,
  certs: Awaited<ReturnType<typeof makeCertFiles>>,
): Promise<Series> {
  const server = forkProcess('churn-server', { kind, certs }, ['--expose-gc']);
  const { port } = await reply<{ port: number }>(server, 'listening');
  const client = forkProcess('churn-client', { port, concurrency: CONCURRENCY, certs });
  try {
    await reply(client, 'ready');
    const sample = async () => {
      server.send({ type: 'sample' });
      return (await reply<Extract<ChurnServerMessage, { type: 'sample' }>>(server, 'sample')).rssKb;
    };
    // A short warm-up, so that the first sample holds the code every connection runs.
    client.send({ type: 'run', count: Math.min(1000, EVERY) });
    let failed = (await reply<{ failed: number }>(client, 'ran')).failed;
    const samples: [number, number][] = [[0, await sample()]];
    for (let made = EVERY; made <= CONNECTIONS; made += EVERY) {
      client.send({ type: 'run', count: EVERY });
      failed += (await reply<{ failed: number }>(client, 'ran')).failed;
      samples.push([made, await sample()]);
    }
    const lastHalf = samples.slice(Math.floor(samples.length / 2));
    return { kind, samples, failed, slopeKibPer1000: round(slope(lastHalf) * 1000, 2) };
  } finally {
    client.send({ type: 'stop' });
    server.send({ type: 'stop' });
  }
}

it(
  'churn: resident memory under short mTLS connections, meshless against bare node:https',
  async () => {
    const before = environment();
    const certs = await makeCertFiles('ecdsa-p256');
    const series: Series[] = [];
    try {
      for (const kind of KINDS) series.push(await churn(kind, certs));
    } finally {
      await removeCertFiles(certs);
    }
    const after = environment();
    const byKind = Object.fromEntries(series.map((s) => [s.kind, s])) as Record<ChurnServerKind, Series>;
    const mib = (kb: number) => round(kb / 1024, 1);
    const last = (s: Series) => (s.samples.at(-1) as [number, number])[1];
    const growth = (s: Series) => last(s) - (s.samples[0] as [number, number])[1];
    const growthGapMib = mib(growth(byKind.meshless) - growth(byKind.https));
    const slopeGap = byKind.meshless.slopeKibPer1000 - byKind.https.slopeKibPer1000;
    const checks = verdict(
      `meshless grows within ${GROWTH_MARGIN_MIB} MiB of what bare node:https grows (slope of the last half within ${SLOPE_MARGIN_KIB_PER_1000} KiB per 1000 connections)`,
      [
        growthGapMib <= GROWTH_MARGIN_MIB,
        slopeGap <= SLOPE_MARGIN_KIB_PER_1000,
        series.every((s) => s.failed === 0),
      ],
    );
    const header = ['connections', ...series.map((s) => `${LABELS[s.kind]} RSS MiB`)];
    const rows = (byKind.https.samples ?? []).map(([made], i) => [
      made,
      ...series.map((s) => mib((s.samples[i] as [number, number])[1])),
    ]);
    print(
      [
        `churn: ${CONNECTIONS} short mTLS connections per server, RSS after forced GC every ${EVERY} (${before.node}, ${loadAverageLine(before, after)})`,
        table(header, rows),
        '',
        table(
          [
            'server',
            'growth MiB',
            'slope of the last half, KiB per 1000 connections',
            'final RSS MiB',
            'failed connections',
          ],
          series.map((s) => [LABELS[s.kind], mib(growth(s)), s.slopeKibPer1000, mib(last(s)), s.failed]),
        ),
        '',
        verdictLine(checks),
      ].join('\n'),
    );
    await writeResults('churn', {
      ...resultsHeader('churn', before, after),
      connections: CONNECTIONS,
      every: EVERY,
      concurrency: CONCURRENCY,
      series,
      growthGapMib,
      verdict: checks,
    });
  },
  // Bounded by the machine: about 1 ms of CPU per handshake on each side, three servers.
  24 * 60 * 60 * 1000,
);
