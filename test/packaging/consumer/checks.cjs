// Runs inside the scratch project that installed the packed tarballs: loads each package through
// `load` (import() from esm.mjs, require() from cjs.cjs) and checks that its public API works.
'use strict';
const assert = require('node:assert/strict');
const { generateKeyPairSync } = require('node:crypto');

const SPIFFE_ID = 'spiffe://example.org/ns/prod/sa/web';

/** Checks beyond "the export exists", per package; each gets the module, the spec and the loader. */
const deepChecks = {
  async '@meshless/core'(core, spec) {
    const id = core.parseSpiffeId(SPIFFE_ID);
    assert.equal(String(id), SPIFFE_ID);
    assert.equal(id.trustDomain.name, 'example.org');
    assert.throws(
      () => core.parseSpiffeId('spiffe://Example.org/web'),
      (err) =>
        err instanceof core.MeshlessError && core.isMeshlessError(err, 'ERR_MESHLESS_SPIFFE_ID_INVALID'),
    );
    assert.ok(core.MESHLESS_ERROR_CODES.includes('ERR_MESHLESS_CERT_EXPIRED'));

    // Real material made at test time: exercises @peculiar/x509 and reflect-metadata as packed.
    const { cert, key, ca, spiffeId } = spec.material;
    const material = core.loadMaterial({ cert, key, ca });
    assert.equal(String(material.identity.spiffeId), spiffeId);
    assert.equal(core.authorize.id(spiffeId)(material.identity).allowed, true);
    assert.equal(core.authorize.id(SPIFFE_ID)(material.identity).allowed, false);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    assert.throws(
      () => core.loadMaterial({ cert, key: otherKey, ca }),
      (err) => core.isMeshlessError(err, 'ERR_MESHLESS_KEY_MISMATCH'),
    );
    const source = core.staticSource(material);
    assert.equal(source.current(), material);
    await source.close();
  },

  async '@meshless/pki'(pki, _spec, load) {
    const core = await load('@meshless/core');
    const ca = await pki.createCa({ trustDomain: 'example.org' });
    const issued = await ca.issue({ spiffeId: SPIFFE_ID });
    const material = core.loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
    assert.equal(String(material.identity.spiffeId), SPIFFE_ID);
  },
};

/**
 * Loads every package of `spec.packages`, checks the exports `spec.expectedExports` names (name to
 * `typeof`), runs the deep checks, and returns `{ [package]: { keys, problems } }`.
 */
async function run(load, spec) {
  const results = {};
  for (const name of spec.packages) {
    const problems = [];
    let keys = [];
    try {
      const mod = await load(name);
      keys = Object.keys(mod).sort();
      if (keys.length === 0) problems.push('it exports nothing');
      for (const [exportName, type] of Object.entries(spec.expectedExports[name] ?? {})) {
        if (typeof mod[exportName] !== type)
          problems.push(`export ${exportName} is ${typeof mod[exportName]}, expected ${type}`);
      }
      const deep = deepChecks[name];
      if (deep && problems.length === 0) await deep(mod, spec, load);
    } catch (err) {
      problems.push(String(err?.stack ?? err));
    }
    results[name] = { keys, problems };
  }
  return results;
}

module.exports = { run };
