#!/usr/bin/env node
import { stageReport } from './coverage-table.mjs';
// Runs the three stages and prints the coverage at each; exits 1 if a stage did not end as planned.
import { runMigration } from './migration.mjs';

const results = await runMigration({ onStage: (result, n) => console.log(`${stageReport(result, n)}\n`) });
const [plaintext, permissive, strict] = results.map((r) => r.coverage.shares.mtls);
const ok =
  plaintext === 0 &&
  permissive > 0 &&
  permissive < 1 &&
  strict === 1 &&
  results[2].outcomes['invoice-export'].ok === 0;
console.log(
  ok ? 'Migrated: billing is strict, every request it serves is mTLS.' : 'The rollout did not go as planned.',
);
process.exitCode = ok ? 0 : 1;
