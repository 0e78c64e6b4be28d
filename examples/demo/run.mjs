#!/usr/bin/env node
// `npm run demo`: runs the meshless demo and exits 0 when every claim held.
// MESHLESS_DEMO_REPORT=<file> also writes the measured facts as JSON (the demo's test reads them).
import { writeFile } from 'node:fs/promises';
import { runDemo } from './src/demo.mjs';

const report = await runDemo();
if (process.env.MESHLESS_DEMO_REPORT)
  await writeFile(process.env.MESHLESS_DEMO_REPORT, JSON.stringify(report, null, 2));
console.log(report.ok ? '\nAll claims held.' : '\nSome claims did not hold (see ✗ above).');
process.exit(report.ok ? 0 : 1);
