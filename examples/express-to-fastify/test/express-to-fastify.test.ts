import { createFetch } from '@meshless/client';
import { loadMaterial, staticSource } from '@meshless/core';
import { createCa } from '@meshless/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBilling } from '../src/billing.mjs';
import { BILLING_ID, ORDERS_ID, TRUST_DOMAIN } from '../src/identities.mjs';
import { startOrders } from '../src/orders.mjs';

/** What `POST /charges` on billing answers. */
interface ChargeBody {
  charged: boolean;
  caller?: string;
  tls: { version: string | null; cipher?: string; resumed: boolean };
  servedBy: string;
}

/** What `POST /orders` answers when billing was reached. */
interface OrderBody {
  placedBy?: string;
  billing: ChargeBody;
}

/** The body of a refusal. */
interface ErrorBody {
  error: string;
  code?: string;
}

let ca: Awaited<ReturnType<typeof createCa>>;
let billing: Awaited<ReturnType<typeof startBilling>>;
let orders: Awaited<ReturnType<typeof startOrders>>;

async function sourceFor(spiffeId: string) {
  const issued = await ca.issue({ spiffeId });
  return staticSource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem }));
}

beforeAll(async () => {
  ca = await createCa({ trustDomain: TRUST_DOMAIN });
  billing = await startBilling({ source: await sourceFor(BILLING_ID), allowedCaller: ORDERS_ID });
  orders = await startOrders({
    source: await sourceFor(ORDERS_ID),
    billingUrl: billing.url,
    billingId: BILLING_ID,
    trustDomain: TRUST_DOMAIN,
  });
});

afterAll(async () => {
  await orders?.close();
  await billing?.app.close();
});

describe('example: express-to-fastify', () => {
  it('orders calls billing over mTLS and each side sees the other', async () => {
    const customer = createFetch({
      source: await sourceFor(`spiffe://${TRUST_DOMAIN}/ns/shop/sa/frontend`),
      authorizeServer: ORDERS_ID,
    });
    try {
      const answer = await customer(`${orders.url}/orders`, { method: 'POST' });
      expect(answer.status).toBe(201);
      const body = (await answer.json()) as OrderBody;
      expect(body.placedBy).toBe(`spiffe://${TRUST_DOMAIN}/ns/shop/sa/frontend`);
      expect(body.billing.caller).toBe(ORDERS_ID);
      expect(body.billing.tls.version).toBe('TLSv1.3');
    } finally {
      await customer.close();
    }
  });

  it('billing refuses any caller but orders', async () => {
    const intruder = createFetch({
      source: await sourceFor(`spiffe://${TRUST_DOMAIN}/ns/shop/sa/intruder`),
      authorizeServer: BILLING_ID,
    });
    try {
      const answer = await intruder(`${billing.url}/charges`, { method: 'POST' });
      expect(answer.status).toBe(403);
      expect(((await answer.json()) as ErrorBody).error).toBe('peer_forbidden');
    } finally {
      await intruder.close();
    }
  });

  it('orders refuses to talk to a billing impostor', async () => {
    const impostor = await startBilling({
      source: await sourceFor(`spiffe://${TRUST_DOMAIN}/ns/shop/sa/impostor`),
      allowedCaller: ORDERS_ID,
    });
    const misdirected = await startOrders({
      source: await sourceFor(ORDERS_ID),
      billingUrl: impostor.url,
      billingId: BILLING_ID,
      trustDomain: TRUST_DOMAIN,
    });
    const customer = createFetch({
      source: await sourceFor(`spiffe://${TRUST_DOMAIN}/ns/shop/sa/frontend`),
      authorizeServer: ORDERS_ID,
    });
    try {
      const answer = await customer(`${misdirected.url}/orders`, { method: 'POST' });
      expect(answer.status).toBe(502);
      expect(await answer.json()).toEqual({
        error: 'billing_unreachable',
        code: 'ERR_MESHLESS_SERVER_UNAUTHORIZED',
      });
    } finally {
      await customer.close();
      await misdirected.close();
      await impostor.app.close();
    }
  });
});
