// The whole rollout: a dev CA and identities, then the three stages one after another.
import { loadMaterial, staticSource } from '@meshless/core';
import { createCa } from '@meshless/pki';
import { BILLING_ID, TRUST_DOMAIN } from './identities.mjs';
import { runStage } from './run-stage.mjs';
import { CALLERS, STAGES } from './stages.mjs';

/** Runs every stage; `onStage` gets each result as soon as its stage is over. Resolves with all of them. */
export async function runMigration({ requests = 10, onStage = () => {} } = {}) {
  const ca = await createCa({ trustDomain: TRUST_DOMAIN });
  const sourceFor = async (spiffeId) => {
    const issued = await ca.issue({ spiffeId });
    return staticSource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem }));
  };
  const sources = { billing: await sourceFor(BILLING_ID) };
  for (const [name, { id }] of Object.entries(CALLERS)) if (id) sources[name] = await sourceFor(id);

  const results = [];
  for (const stage of STAGES) {
    const result = await runStage(stage, { sources, requests });
    onStage(result, results.length + 1);
    results.push(result);
  }
  return results;
}
