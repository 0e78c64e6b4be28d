// Runs both services on one machine with a throwaway dev CA, places one order, and stops.
// In a cluster each service would read its files from a cert-manager secret volume instead
// (see ../kubernetes), with `watchCertificateFiles({ dir, layout: 'cert-manager' })`.
import { createFetch } from '@meshless/client';
import { loadMaterial, staticSource } from '@meshless/core';
import { createCa } from '@meshless/pki';
import { startBilling } from './billing.mjs';
import { BILLING_ID, ORDERS_ID, TRUST_DOMAIN } from './identities.mjs';
import { startOrders } from './orders.mjs';

const ca = await createCa({ trustDomain: TRUST_DOMAIN });
const sourceFor = async (spiffeId) => {
  const issued = await ca.issue({ spiffeId });
  return staticSource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem }));
};

const billing = await startBilling({ source: await sourceFor(BILLING_ID), allowedCaller: ORDERS_ID });
const orders = await startOrders({
  source: await sourceFor(ORDERS_ID),
  billingUrl: billing.url,
  billingId: BILLING_ID,
  trustDomain: TRUST_DOMAIN,
});

const customer = createFetch({
  source: await sourceFor(`spiffe://${TRUST_DOMAIN}/ns/shop/sa/frontend`),
  authorizeServer: ORDERS_ID,
});
const answer = await customer(`${orders.url}/orders`, { method: 'POST' });
console.log(answer.status, JSON.stringify(await answer.json(), null, 2));

await customer.close();
await orders.close();
await billing.app.close();
