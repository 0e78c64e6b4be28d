import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/internal.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // One copy of each module for both entries (index and internal), in CJS as in ESM.
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  outDir: 'dist',
});
