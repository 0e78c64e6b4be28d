// CJS consumer: require() each packed package. Usage: node cjs.cjs spec.json
'use strict';
const { readFileSync } = require('node:fs');
const checks = require('./checks.cjs');

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
checks
  .run(async (name) => require(name), spec)
  .then(
    (results) => process.stdout.write(JSON.stringify(results)),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
