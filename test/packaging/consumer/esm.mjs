// ESM consumer: import() each packed package. Usage: node esm.mjs spec.json
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import checks from './checks.cjs';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = await checks.run((name) => import(name), spec);

// The dual-package hazard: an app can load the ESM and the CJS build of core at once (directly and
// through a CJS dependency). Errors from one must still be recognised by the other.
if (spec.packages.includes('@meshless/core')) {
  const problems = results['@meshless/core'].problems;
  try {
    const esm = await import('@meshless/core');
    const cjs = createRequire(import.meta.url)('@meshless/core');
    const foreign = new cjs.MeshlessError('ERR_MESHLESS_PEM_INVALID', 'from the CJS build');
    assert.ok(foreign instanceof esm.MeshlessError, 'a CJS MeshlessError is instanceof the ESM class');
    assert.ok(esm.isMeshlessError(foreign, 'ERR_MESHLESS_PEM_INVALID'));
  } catch (err) {
    problems.push(`ESM and CJS builds together: ${err?.stack ?? err}`);
  }
}

process.stdout.write(JSON.stringify(results));
