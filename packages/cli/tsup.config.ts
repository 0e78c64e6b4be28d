import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  outDir: 'dist',
  // `meshless demo` finds the repository from import.meta.url, which the CommonJS build must shim.
  shims: true,
  // docs/ is not published: ship the CLI guide and the getting-started guide next to the command,
  // for `meshless --help` and `meshless demo` (outside a checkout) to point at.
  onSuccess: async () => {
    await copyFile('../../docs/cli.md', 'dist/cli.md');
    await copyFile('../../docs/getting-started.md', 'dist/getting-started.md');
  },
});
