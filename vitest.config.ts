import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (name: string, entry = 'index') =>
  fileURLToPath(new URL(`./packages/${name}/src/${entry}.ts`, import.meta.url));
// Every workspace package, so that a new package needs no entry here.
const packages = readdirSync(fileURLToPath(new URL('./packages', import.meta.url)), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

export default defineConfig({
  resolve: {
    // Tests run against the sources; the packaging test covers the built files.
    // `@meshless/<name>/internal` is the plumbing entry packages share (outside semver).
    alias: packages.flatMap((name) => [
      { find: `@meshless/${name}/internal`, replacement: src(name, 'internal') },
      { find: new RegExp(`^@meshless/${name}$`), replacement: src(name) },
    ]),
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
