#!/usr/bin/env node
import { run } from './run.js';

// exitCode, not process.exit(): stdout and stderr finish flushing before the process ends.
run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
