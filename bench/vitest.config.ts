// Benchmarks run through vitest so that they use the TypeScript sources and the test helpers
// (certificates made at run time, the kubelet AtomicWriter), like the tests. `npm run bench` runs
// every bench/*.bench.ts; each writes JSON to bench/results/ and prints a table.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (name: string, entry = 'index') =>
  fileURLToPath(new URL(`../packages/${name}/src/${entry}.ts`, import.meta.url));
const packages = ['core', 'pki', 'watcher', 'server', 'client', 'express', 'fastify', 'metrics', 'cli'];

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolve: {
    alias: packages.flatMap((name) => [
      { find: `@meshless/${name}/internal`, replacement: src(name, 'internal') },
      { find: new RegExp(`^@meshless/${name}$`), replacement: src(name) },
    ]),
  },
  test: {
    include: ['bench/**/*.bench.ts'],
    // Builds the packages the child processes run (dist) when their sources are newer, and compiles
    // the child process scripts of bench/processes.
    globalSetup: ['bench/lib/build.ts'],
    // One benchmark at a time: they measure latency, and must not compete for the CPU.
    fileParallelism: false,
    testTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
