// `npm run audit:tls`: the testssl.sh audit, too slow for every `npm test` run. Same aliases as the
// root config; only test/audit/*.audit.ts, which the root config's include pattern does not match.
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/audit/**/*.audit.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
