// orders: an Express service that calls billing over mutual TLS and checks billing's identity.
import { createFetch } from '@meshless/client';
import { authorize } from '@meshless/core';
import { mtls } from '@meshless/express';
import { createServer } from '@meshless/server';
import express from 'express';

/**
 * Starts orders with mutual TLS from `source`. `POST /orders` charges billing at `billingUrl`, which
 * must present `billingId`. Any workload of the trust domain may place orders.
 */
export async function startOrders({
  source,
  billingUrl,
  billingId,
  trustDomain,
  host = '127.0.0.1',
  port = 0,
}) {
  const billing = createFetch({ source, authorizeServer: billingId });
  const app = express();
  app.use(mtls({ authorize: authorize.memberOf(trustDomain) }));
  app.post('/orders', async (req, res) => {
    try {
      const answer = await billing(`${billingUrl}/charges`, { method: 'POST' });
      res
        .status(answer.ok ? 201 : 502)
        .json({ placedBy: req.peer?.spiffeId?.toString(), billing: await answer.json() });
    } catch (err) {
      // fetch rejects with TypeError('fetch failed'); the meshless code says why (wrong server ID, ...).
      res.status(502).json({ error: 'billing_unreachable', code: err.cause?.code ?? err.code });
    }
  });

  const server = createServer({ source, authorize: authorize.memberOf(trustDomain) }, app);
  await new Promise((resolve) => server.listen(port, host, resolve));
  const { port: actual } = server.address();
  return {
    server,
    url: `https://${host}:${actual}`,
    async close() {
      await billing.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
