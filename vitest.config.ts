import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));
const packages = ['core', 'pki', 'watcher', 'server', 'client', 'express', 'fastify', 'metrics', 'cli', 'spiffe'];

export default defineConfig({
  resolve: {
    // Tests run against the sources; the packaging test covers the built files.
    alias: Object.fromEntries(packages.map((name) => [`@meshless/${name}`, src(name)])),
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
