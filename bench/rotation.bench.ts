// Rotation pickup: the time from a kubelet AtomicWriter swap of `..data` to the watcher's `update`
// event, over 50 swaps, with the default debounce and with a short one for comparison.
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TlsMaterial } from '@meshless/core';
import { WATCH_DEFAULTS, watchCertificateFiles } from '@meshless/watcher';
import { it } from 'vitest';
import { atomicWriterUpdate, certManagerFiles } from '../test/support/atomic-writer.js';
import { makeLeaf, makeRoot } from '../test/support/certs.js';

const SWAPS = 50;
const TARGET_P99_MS = 200;

interface Row {
  debounceMs: number;
  swaps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  // Nearest rank: with 50 samples, p99 is the largest but none.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function measure(debounceMs: number): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-bench-rotation-'));
  try {
    const root = await makeRoot();
    const leaves = await Promise.all(Array.from({ length: SWAPS + 1 }, () => makeLeaf(root)));
    await atomicWriterUpdate(dir, certManagerFiles(leaves[0]!));
    const source = await watchCertificateFiles({ dir, layout: 'cert-manager', debounceMs });
    let errors = 0;
    source.on('error', () => errors++);
    const latencies: number[] = [];
    try {
      for (const leaf of leaves.slice(1)) {
        const fingerprint = new X509Certificate(leaf.certPem).fingerprint256;
        const seen = new Promise<number>((resolve) => {
          const onUpdate = (material: TlsMaterial) => {
            if (material.identity.fingerprint256 !== fingerprint) return;
            source.off('update', onUpdate);
            resolve(performance.now());
          };
          source.on('update', onUpdate);
        });
        const { swappedAt } = await atomicWriterUpdate(dir, certManagerFiles(leaf));
        latencies.push((await seen) - swappedAt);
        // Let the directory settle, as between two real rotations.
        await sleep(20);
      }
    } finally {
      await source.close();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      debounceMs,
      swaps: SWAPS,
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) as number),
      mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
      errors,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function table(rows: Row[]): string {
  const header = '| debounce | swaps | p50 ms | p90 ms | p99 ms | max ms | mean ms | errors |';
  const rule = '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const lines = rows.map(
    (r) =>
      `| ${r.debounceMs} ms${r.debounceMs === WATCH_DEFAULTS.debounceMs ? ' (default)' : ''} | ${r.swaps} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.mean} | ${r.errors} |`,
  );
  return [header, rule, ...lines].join('\n');
}

it(`rotation pickup: AtomicWriter swap to update, ${SWAPS} swaps`, async () => {
  // Other processes' load skews latency; recorded with the results.
  const loadBefore = loadavg().map((n) => Math.round(n * 100) / 100);
  const rows: Row[] = [];
  for (const debounceMs of [WATCH_DEFAULTS.debounceMs, 10]) rows.push(await measure(debounceMs));
  const environment = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    tmpdir: tmpdir(),
    loadAverageBefore: loadBefore,
  };
  const results = join(import.meta.dirname, 'results');
  await mkdir(results, { recursive: true });
  await writeFile(
    join(results, 'rotation.json'),
    `${JSON.stringify({ benchmark: 'rotation-pickup', date: new Date().toISOString(), environment, targetP99Ms: TARGET_P99_MS, rows }, null, 2)}\n`,
  );
  const byDefault = rows.find((r) => r.debounceMs === WATCH_DEFAULTS.debounceMs)!;
  // Reported, not asserted: a latency benchmark on a shared machine must not fail a build by itself.
  const verdict = byDefault.p99 < TARGET_P99_MS ? 'met' : 'MISSED';
  process.stdout.write(
    `\nRotation pickup (AtomicWriter swap → update)\n${table(rows)}\n` +
      `target p99 < ${TARGET_P99_MS} ms with the default debounce: ${verdict}\n${JSON.stringify(environment)}\n\n`,
  );
});
