#!/usr/bin/env node
// `npm run demo [-- --keep]`: runs the meshless demo and exits 0 when every claim held. `--keep`
// leaves the certificates in place, with commands to try on them.
// MESHLESS_DEMO_REPORT=<file> also writes the measured facts as JSON (the demo's test reads them).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runDemo } from './src/demo.mjs';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--keep');
if (unknown.length > 0) {
  console.error(`demo: unknown argument ${unknown.join(' ')}; the only option is --keep`);
  process.exit(2);
}
const report = await runDemo({ keep: args.includes('--keep') });
if (process.env.MESHLESS_DEMO_REPORT)
  await writeFile(process.env.MESHLESS_DEMO_REPORT, JSON.stringify(report, null, 2));
console.log(report.ok ? '\nAll claims held.' : '\nSome claims did not hold (see ✗ above).');
const guide = fileURLToPath(new URL('../../docs/getting-started.md', import.meta.url));
console.log(`Next: mutual TLS between two services of your own, step by step: ${guide}`);
process.exit(report.ok ? 0 : 1);
