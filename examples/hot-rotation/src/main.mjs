#!/usr/bin/env node
// Runs the service, the rotations and the client together for a few seconds and prints a summary;
// exits 1 if a request failed or a new certificate was not seen by a fresh connection within 1 s.
import { parseArgs } from 'node:util';
import { runHotRotation } from './scenario.mjs';

const { values } = parseArgs({
  options: {
    rotations: { type: 'string', default: '4' },
    every: { type: 'string', default: '800' },
  },
});
const report = await runHotRotation({ rotations: Number(values.rotations), everyMs: Number(values.every) });

console.log(`started with certificate ${report.firstSerial}`);
for (const [i, { serial, pickupMs }] of report.rotations.entries()) {
  const seen =
    pickupMs === undefined
      ? 'NOT seen by a fresh connection'
      : `first fresh connection ${pickupMs} ms after the swap`;
  console.log(`rotation ${i + 1}: ${serial}, ${seen}`);
}
console.log(`${report.appliedByWatcher} rotations applied by the watcher`);
console.log(
  `${report.requests} requests, ${report.failures} failed${report.failures ? ` (${report.failureSamples.join(', ')})` : ''}`,
);
console.log(`${report.serialsSeenFresh.length} distinct serials seen by fresh connections`);

const ok =
  report.failures === 0 &&
  report.rotations.every(({ pickupMs }) => pickupMs !== undefined && pickupMs < 1000);
console.log(ok ? 'ok: every rotation landed under load without a failed request' : 'NOT ok');
process.exitCode = ok ? 0 : 1;
