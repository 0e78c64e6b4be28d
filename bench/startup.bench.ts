// Startup (issue 20): how long importing meshless takes, against node:https and undici themselves,
// and how long a fresh process takes to serve its first mTLS request, meshless createServer against
// the hand-written node:https server. Every reading is a fresh process (module caches and JIT state
// are what is measured), the kinds interleaved in a new order each round so that a busy moment
// of the shared machine does not land on one kind (mirroredOrder: each kind goes first as often as
// last).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { it } from 'vitest';
import { PROCESSES_DIR } from './lib/build.js';
import { makeCertFiles, removeCertFiles } from './lib/certs.js';
import { evenRounds, mirroredOrder } from './lib/order.js';
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
import { cell, round, spread } from './lib/stats.js';

const run = promisify(execFile);
const ROUNDS = evenRounds(knob('BENCH_STARTUP_ROUNDS', 16));
/** "A few milliseconds": what importing meshless may add over the module it wraps. */
const IMPORT_BUDGET_MS = 5;

/** Modules timed on import, each against the one it wraps; @meshless/pki for reference (it loads @peculiar/x509). */
const IMPORTS = [
  'node:https',
  '@meshless/server',
  'undici',
  '@meshless/client',
  '@meshless/core',
  '@meshless/pki',
];
const SERVERS = ['https', 'meshless'] as const;

async function child(config: Record<string, unknown>): Promise<Record<string, number>> {
  const { stdout } = await run(
    process.execPath,
    [join(PROCESSES_DIR, 'startup.js'), JSON.stringify(config)],
    {
      timeout: 30_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, number>;
}

it(
  'startup: import time and time to the first mTLS request, against node:https and undici',
  async () => {
    const before = environment();
    const certs = await makeCertFiles();
    const imports: Record<string, number[]> = Object.fromEntries(IMPORTS.map((m) => [m, []]));
    const firsts: Record<string, number[]> = Object.fromEntries(SERVERS.map((k) => [k, []]));
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const jobs = [
          ...IMPORTS.map((m) => ({ kind: 'import', module: m })),
          ...SERVERS.map((kind) => ({ kind })),
        ];
        for (const job of mirroredOrder(jobs, round)) {
          if (job.kind === 'import') {
            const { importMs } = await child(job);
            imports[job.module as string]?.push(importMs as number);
          } else {
            const result = await child({ ...job, certs });
            if (result.status !== 200)
              throw new Error(`${job.kind}: first request answered ${result.status}`);
            firsts[job.kind]?.push(result.firstResponseMs as number);
          }
        }
      }
    } finally {
      await removeCertFiles(certs);
    }
    const after = environment();
    const median = (values: number[]) => spread(values).median;
    const added = (module: string, base: string) =>
      median(imports[module] as number[]) - median(imports[base] as number[]);
    const serverAdded = added('@meshless/server', 'node:https');
    const clientAdded = added('@meshless/client', 'undici');
    const firstAdded = median(firsts.meshless as number[]) - median(firsts.https as number[]);
    const v = verdict(`importing the server and client packages adds at most ${IMPORT_BUDGET_MS} ms`, [
      serverAdded <= IMPORT_BUDGET_MS,
      clientAdded <= IMPORT_BUDGET_MS,
    ]);
    print(
      [
        `Startup: ${ROUNDS} rounds of fresh processes; ms, median (min–max).`,
        table(
          ['import', 'ms'],
          IMPORTS.map((m) => [m, cell(spread(imports[m] as number[]))]),
        ),
        table(
          ['first mTLS request, from process start', 'ms'],
          [
            ['node:https hand-written', cell(spread(firsts.https as number[]))],
            ['meshless createServer', cell(spread(firsts.meshless as number[]))],
          ],
        ),
        `added by meshless (difference of medians): @meshless/server import ${round(serverAdded)} ms over node:https, ` +
          `@meshless/client import ${round(clientAdded)} ms over undici, first request ${round(firstAdded)} ms`,
        verdictLine(v),
        loadAverageLine(before, after),
      ].join('\n\n'),
    );
    await writeResults('startup', {
      ...resultsHeader('startup', before, after),
      rounds: ROUNDS,
      importMs: imports,
      firstResponseMs: firsts,
      addedMs: { serverImport: serverAdded, clientImport: clientAdded, firstRequest: firstAdded },
      verdict: v,
    });
  },
  30 * 60_000,
);
