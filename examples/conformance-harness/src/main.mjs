#!/usr/bin/env node
// Entry point the suite starts: `node src/main.mjs`, with SPIFFE_ENDPOINT_SOCKET set by the suite.
import { startHarness } from './harness.mjs';

const harness = await startHarness().catch((error) => {
  process.stderr.write(`harness: ${error.code ?? ''} ${error.message}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  harness.close().finally(() => process.exit(0));
});
