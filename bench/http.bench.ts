// Steady state, HTTP/1.1 keep-alive (issues 4 and 9): requests per second, p50/p99 latency, and
// server-side CPU per request read from /proc for every server-side process, for plain node:http, a
// hand-written node:https mTLS server, meshless strict and permissive, and nginx as a sidecar in
// front of node:http; and, client side, meshless's agent against a raw undici Agent. Every
// configuration runs in each round, next to the others, so that the shared machine's drift falls on
// all of them alike, in mirrored order; a second node:https process (an A/A control) shows what the
// measurement makes of two identical servers, and each window records its server's collections.
// The 5% comparison with node:https alone is head-to-head.bench.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { type CertFiles, makeCertFiles, removeCertFiles } from './lib/certs.js';
import { type LoadSession, type RunningServer, startLoadSession, startServer } from './lib/child.js';
import { GC_HEADER, gcDuring, gcRows, P99_BY_GC_HEADER, p99ByMajorGc } from './lib/gc.js';
import type { ClientKind, LoadResult } from './lib/messages.js';
import { type RunningNginx, startNginx } from './lib/nginx.js';
import { evenRounds, mirroredOrder } from './lib/order.js';
import { type Negotiated, probeTls } from './lib/probe.js';
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
import {
  append,
  cell,
  formatRatio,
  formatRatioOver,
  pairedRatio,
  pairedRatioOver,
  type Spread,
  spread,
} from './lib/stats.js';

// Even: rounds come in pairs of opposite orders (see mirroredOrder).
const ROUNDS = evenRounds(knob('BENCH_ROUNDS', 6));
// Each connection count's rounds are split among this many sets of fresh server processes.
const EPOCHS = Math.min(ROUNDS, knob('BENCH_SERVER_PROCESSES', 2));
const ROUNDS_PER_EPOCH = Math.ceil(ROUNDS / EPOCHS);
// Each window is preceded by a short re-warm of the same connections (the JIT, the server's buffers).
const REWARM_MS = knob('BENCH_WARMUP_MS', 250);
const WINDOW_MS = knob('BENCH_DURATION_MS', 1000);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '16,128,256').split(',').map(Number);

type Target =
  | 'http'
  | 'https'
  | 'https-control'
  | 'https-per-request'
  | 'meshless'
  | 'permissive'
  | 'sidecar';

interface Config {
  id: string;
  label: string;
  target: Target;
  client: ClientKind;
}

const CONFIGS: Config[] = [
  { id: 'http', label: 'node:http, no TLS (floor)', target: 'http', client: 'undici' },
  { id: 'https', label: 'node:https hand-written mTLS', target: 'https', client: 'undici' },
  { id: 'meshless', label: 'meshless createServer strict', target: 'meshless', client: 'undici' },
  // The same server as `https` in another process, measured like the others: its ratios to `https`
  // are what the measurement itself makes of two identical servers (an A/A comparison). Placed after
  // meshless so that, with mirrored rounds, the two copies of node:https sit on either side of it.
  {
    id: 'control',
    label: 'node:https hand-written mTLS, a second process',
    target: 'https-control',
    client: 'undici',
  },
  { id: 'permissive', label: 'meshless permissive, mTLS clients', target: 'permissive', client: 'undici' },
  { id: 'sidecar', label: 'nginx sidecar + node:http app', target: 'sidecar', client: 'undici' },
  { id: 'agent', label: 'meshless createAgent → node:https', target: 'https', client: 'meshless' },
  {
    id: 'per-request',
    label: 'node:https, getPeerCertificate() per request',
    target: 'https-per-request',
    client: 'undici',
  },
];

interface Endpoint {
  url: string;
  pids: number[];
  /** The Node processes among them, whose garbage collections each window records. */
  nodeServers: RunningServer[];
}

async function startTargets(certs: CertFiles, prefix: string, probe: boolean) {
  const kinds = {
    http: 'http',
    https: 'https',
    'https-control': 'https',
    'https-per-request': 'https-per-request',
    meshless: 'meshless',
    permissive: 'permissive',
    'sidecar-app': 'sidecar-app',
  } as const;
  const names = Object.keys(kinds) as (keyof typeof kinds)[];
  const servers = await Promise.all(names.map((name) => startServer({ kind: kinds[name], certs })));
  const byKind = Object.fromEntries(names.map((name, i) => [name, servers[i]!])) as Record<
    keyof typeof kinds,
    RunningServer
  >;
  const endpoints = {} as Record<Target, Endpoint>;
  for (const kind of [
    'http',
    'https',
    'https-control',
    'https-per-request',
    'meshless',
    'permissive',
  ] as const) {
    const server = byKind[kind];
    endpoints[kind] = {
      url: `${kind === 'http' ? 'http' : 'https'}://127.0.0.1:${server.port}/`,
      pids: [server.pid],
      nodeServers: [server],
    };
  }
  const app = byKind['sidecar-app'];
  let nginx: RunningNginx | undefined;
  const stop = async () => {
    await nginx?.stop();
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    nginx = await startNginx(prefix, app.port, certs);
  } catch (error) {
    await stop();
    throw error;
  }
  endpoints.sidecar = {
    url: `https://127.0.0.1:${nginx.port}/`,
    pids: [...nginx.pids, app.pid],
    nodeServers: [app],
  };
  const negotiated = {} as Record<string, Negotiated>;
  if (probe) {
    for (const target of ['https', 'meshless', 'permissive', 'sidecar'] as const) {
      negotiated[target] = await probeTls(Number(new URL(endpoints[target].url).port), certs);
    }
  }
  return { endpoints, negotiated, stop };
}

interface Summary {
  perSecond: Spread;
  p50: Spread;
  p99: Spread;
  serverCpuPerRequestUs: Spread;
  clientCpuPerRequestUs: Spread;
  errors: number;
  /** How long the warm-up took to open every connection. */
  connectMs: Spread;
  newConnections: number;
}

function summarize(runs: LoadResult[]): Summary {
  return {
    perSecond: spread(runs.map((r) => r.perSecond)),
    p50: spread(runs.map((r) => r.latencyMs.p50)),
    p99: spread(runs.map((r) => r.latencyMs.p99)),
    serverCpuPerRequestUs: spread(runs.map((r) => r.serverCpuPerRequestUs)),
    clientCpuPerRequestUs: spread(runs.map((r) => r.clientCpuPerRequestUs)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    connectMs: spread(runs.map((r) => r.connectMs)),
    newConnections: runs.reduce((n, r) => n + r.newConnections, 0),
  };
}

// Bounded by the settings: every window with its re-warm, plus connecting each generator.
const TIMEOUT_MS =
  120_000 +
  CONNECTIONS.length *
    (EPOCHS * (20_000 + CONFIGS.length * 30_000) + CONFIGS.length * ROUNDS * (REWARM_MS + WINDOW_MS + 1000));

it(
  'steady state: HTTP/1.1 keep-alive, servers and clients',
  async () => {
    const certs = await makeCertFiles('ecdsa-p256');
    const prefix = await mkdtemp(join(tmpdir(), 'meshless-bench-nginx-'));
    const before = environment();
    let negotiated: Record<string, Negotiated> | undefined;
    // runs['<config> <connections>'] = one LoadResult per round, in round order (pairable across configs).
    const runs: Record<string, LoadResult[]> = {};
    // positions['<config> <connections>'] = where in its round each of those windows was measured.
    const positions: Record<string, number[]> = {};
    let running: { stop(): Promise<void> } | undefined;
    const sessions: LoadSession[] = [];
    try {
      for (const connections of CONNECTIONS) {
        for (let epoch = 0; epoch < EPOCHS; epoch++) {
          // Fresh server processes for each epoch: one process of a kind can run some 10% faster or
          // slower than another of the same kind for its whole life (see docs/performance.md), so
          // each configuration is measured on several processes, not one.
          const targets = await startTargets(certs, prefix, negotiated === undefined);
          running = targets;
          negotiated ??= targets.negotiated;
          // One load generator per configuration, each opening its connections in turn (handshakes
          // of several at once would compete), then kept: every round measures a short window of each.
          const byConfig = new Map<string, LoadSession>();
          for (const config of CONFIGS) {
            const endpoint = targets.endpoints[config.target];
            const session = await startLoadSession({
              url: endpoint.url,
              connections,
              warmupMs: REWARM_MS,
              durationMs: WINDOW_MS,
              client: config.client,
              certs,
              serverPids: endpoint.pids,
            });
            sessions.push(session);
            byConfig.set(config.id, session);
          }
          for (let round = epoch * ROUNDS_PER_EPOCH; round < (epoch + 1) * ROUNDS_PER_EPOCH; round++) {
            const order = mirroredOrder(CONFIGS, round);
            for (const [position, config] of order.entries()) {
              append(positions, `${config.id} ${connections}`, position);
              const result = await byConfig.get(config.id)!.window(REWARM_MS, WINDOW_MS);
              result.serverGc = await gcDuring(targets.endpoints[config.target].nodeServers, result);
              append(runs, `${config.id} ${connections}`, result);
              if (result.errors > 0)
                print(`${config.id} @${connections}: ${result.errors} errors, first: ${result.firstError}`);
              if (result.newConnections > 0 || result.warmWorkers < connections)
                print(
                  `${config.id} @${connections}: not steady: ${result.newConnections} new connections in the window, ${result.warmWorkers}/${connections} workers warm`,
                );
            }
          }
          await Promise.all([...byConfig.values()].map((session) => session.stop()));
          await targets.stop();
          running = undefined;
        }
      }
    } finally {
      await Promise.all(sessions.map((session) => session.stop()));
      await running?.stop();
      await rm(prefix, { recursive: true, force: true });
      await removeCertFiles(certs);
    }

    const summaries: Record<string, Summary> = Object.fromEntries(
      Object.entries(runs).map(([key, results]) => [key, summarize(results)]),
    );
    const rows = CONNECTIONS.flatMap((connections) =>
      CONFIGS.map((config) => {
        const s = summaries[`${config.id} ${connections}`]!;
        return [
          config.label,
          connections,
          cell(s.perSecond, 0),
          cell(s.p50, 2),
          cell(s.p99, 2),
          cell(s.serverCpuPerRequestUs, 1),
          cell(s.clientCpuPerRequestUs, 1),
          s.errors,
        ];
      }),
    );
    const paired = (
      candidate: string,
      baseline: string,
      connections: number,
      pick: (r: LoadResult) => number,
    ) =>
      pairedRatio(
        runs[`${candidate} ${connections}`]!.map(pick),
        runs[`${baseline} ${connections}`]!.map(pick),
      );
    const cpu = (r: LoadResult) => r.serverCpuPerRequestUs;
    const clientCpu = (r: LoadResult) => r.clientCpuPerRequestUs;
    const p50 = (r: LoadResult) => r.latencyMs.p50;
    const p99 = (r: LoadResult) => r.latencyMs.p99;
    const ratios = CONNECTIONS.flatMap((connections) => [
      [
        'meshless strict / node:https',
        connections,
        ...[cpu, p50, p99].map((f) => cellRatio(paired('meshless', 'https', connections, f))),
      ],
      [
        'meshless permissive / node:https',
        connections,
        ...[cpu, p50, p99].map((f) => cellRatio(paired('permissive', 'https', connections, f))),
      ],
      [
        'node:https second process / node:https (A/A: two identical servers)',
        connections,
        ...[cpu, p50, p99].map((f) => cellRatio(paired('control', 'https', connections, f))),
      ],
      [
        'meshless strict / nginx sidecar',
        connections,
        ...[cpu, p50, p99].map((f) => cellRatio(paired('meshless', 'sidecar', connections, f))),
      ],
      [
        'node:https / nginx sidecar (the floor of the ratio above)',
        connections,
        ...[cpu, p50, p99].map((f) => cellRatio(paired('https', 'sidecar', connections, f))),
      ],
      [
        'node:https / node:http (what TLS costs in Node)',
        connections,
        ...[cpu, p50, p99].map((f) => cellRatio(paired('https', 'http', connections, f))),
      ],
      [
        'node:https, getPeerCertificate() per request / once per connection',
        connections,
        ...[cpu, p50, p99].map((f) => cellRatio(paired('per-request', 'https', connections, f))),
      ],
      [
        'meshless agent / undici Agent (client CPU)',
        connections,
        ...[clientCpu, p50, p99].map((f) => cellRatio(paired('agent', 'https', connections, f))),
      ],
    ]);
    // The targets of issues 4 and 9, judged on the paired medians.
    const median = (candidate: string, baseline: string, connections: number, f: (r: LoadResult) => number) =>
      paired(candidate, baseline, connections, f).median;
    const verdicts = CONNECTIONS.flatMap((connections) => [
      verdict(`meshless within 5% of node:https, CPU/req, p50, p99 @${connections}`, [
        median('meshless', 'https', connections, cpu) <= 1.05,
        median('meshless', 'https', connections, p50) <= 1.05,
        median('meshless', 'https', connections, p99) <= 1.05,
      ]),
      verdict(`meshless agent within 5% of undici Agent, client CPU/req, p50, p99 @${connections}`, [
        median('agent', 'https', connections, clientCpu) <= 1.05,
        median('agent', 'https', connections, p50) <= 1.05,
        median('agent', 'https', connections, p99) <= 1.05,
      ]),
      verdict(`meshless at most 0.6x the sidecar's CPU/req @${connections}`, [
        median('meshless', 'sidecar', connections, cpu) <= 0.6,
      ]),
      verdict(`meshless p50 below the sidecar's, p99 no worse @${connections}`, [
        median('meshless', 'sidecar', connections, p50) < 1,
        median('meshless', 'sidecar', connections, p99) <= 1,
      ]),
    ]);
    // Which windows had a mark-compact in the server, and the p99 ratios split by it.
    const GC_CONFIGS = ['https', 'meshless', 'control', 'permissive', 'http', 'sidecar'];
    // The comparisons with node:https that the order and GC tables split.
    const AGAINST_HTTPS = [
      ['meshless', 'meshless strict / node:https'],
      ['permissive', 'meshless permissive / node:https'],
      ['control', 'node:https second process / node:https (A/A)'],
    ] as const;
    const gcTable = gcRows(
      CONNECTIONS.flatMap((connections) =>
        CONFIGS.filter((c) => GC_CONFIGS.includes(c.id)).map(
          (c) => [`${c.label} @${connections}`, runs[`${c.id} ${connections}`]!] as const,
        ),
      ),
    );
    const p99ByGc = CONNECTIONS.flatMap((connections) =>
      AGAINST_HTTPS.map(([candidate, label]) => [
        label,
        connections,
        ...p99ByMajorGc(runs[`${candidate} ${connections}`]!, runs[`https ${connections}`]!),
      ]),
    );
    // The same ratios split by which of the two was measured first in the round.
    const byOrder = CONNECTIONS.flatMap((connections) =>
      AGAINST_HTTPS.map(([candidate, label]) => {
        const c = positions[`${candidate} ${connections}`]!;
        const b = positions[`https ${connections}`]!;
        const rounds = c.map((_, i) => i);
        const baselineFirst = rounds.filter((i) => c[i]! > b[i]!);
        const candidateFirst = rounds.filter((i) => c[i]! < b[i]!);
        const split = (f: (r: LoadResult) => number, subset: number[]) =>
          formatRatioOver(
            pairedRatioOver(
              runs[`${candidate} ${connections}`]!.map(f),
              runs[`https ${connections}`]!.map(f),
              subset,
            ),
          );
        return [
          label,
          connections,
          split(p50, candidateFirst),
          split(p50, baselineFirst),
          split(p99, candidateFirst),
          split(p99, baselineFirst),
        ];
      }),
    );
    const after = environment();
    print(
      [
        `Steady state, HTTP/1.1 keep-alive: ${ROUNDS} rounds (on ${EPOCHS} sets of fresh server processes per connection count), each a ${REWARM_MS} ms re-warm + ${WINDOW_MS} ms window per configuration, connections kept between rounds; median (min–max)`,
        table(
          ['configuration', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'server µs/req', 'client µs/req', 'errors'],
          rows,
        ),
        '',
        'Ratios, paired round by round: median (min–max) of the per-round ratio',
        table(['candidate / baseline', 'conns', 'CPU/req', 'p50', 'p99'], ratios),
        '',
        ...verdicts.map(verdictLine),
        '',
        'The same p50 and p99 ratios, by which of the two was measured first in the round: median (min–max), rounds',
        table(
          [
            'candidate / baseline',
            'conns',
            'p50, candidate first',
            'p50, baseline first',
            'p99, candidate first',
            'p99, baseline first',
          ],
          byOrder,
        ),
        '',
        'Server garbage collections inside the measured windows (the sidecar: its node:http app)',
        table(['configuration', ...GC_HEADER], gcTable),
        '',
        'p99 ratio, paired round by round, by which window had a mark-compact: median (min–max), rounds',
        table(['candidate / baseline', 'conns', ...P99_BY_GC_HEADER], p99ByGc),
        '',
        `negotiated: ${JSON.stringify(negotiated)}`,
        loadAverageLine(before, after),
      ].join('\n'),
    );
    await writeResults('http', {
      ...resultsHeader('http-keepalive', before, after),
      settings: {
        rounds: ROUNDS,
        serverProcesses: EPOCHS,
        rewarmMs: REWARM_MS,
        windowMs: WINDOW_MS,
        connections: CONNECTIONS,
      },
      negotiated,
      configs: CONFIGS,
      summaries,
      verdicts,
      runs,
      positions,
    });
  },
  TIMEOUT_MS,
);

function cellRatio(s: Spread): string {
  if (!Number.isFinite(s.median)) return 'n/a';
  return s.n < 2
    ? formatRatio(s.median)
    : `${formatRatio(s.median)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}
