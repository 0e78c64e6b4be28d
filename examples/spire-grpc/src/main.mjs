// Runs one side of the example with the SVID of this process from the SPIRE agent:
//   SPIFFE_ENDPOINT_SOCKET=unix:///run/spire/agent-sockets/spire-agent.sock node src/main.mjs server
//   SPIFFE_ENDPOINT_SOCKET=... ORDERS_TARGET=orders.shop.svc.cluster.local:8443 node src/main.mjs client
import { workloadApiSource } from '@meshless/spiffe';
import { ordersClient } from './client.mjs';
import { startOrdersServer } from './server.mjs';

const role = process.argv[2] ?? 'server';
const source = await workloadApiSource();
const me = source.current().identity.spiffeId;
source.on('update', (material) =>
  console.log(`rotated: now ${material.identity.spiffeId}, until ${material.notAfter.toISOString()}`),
);
source.on('error', (error) => console.warn(`${error.code}: ${error.message}`));
source.on('withdrawn', (error) =>
  console.error(`SVID withdrawn, refusing new connections: ${error.message}`),
);

if (role === 'server') {
  const orders = await startOrdersServer({ source, port: Number(process.env.PORT ?? 8443) });
  console.log(`orders (${me}) listening on port ${orders.port}`);
  const stop = async () => {
    await orders.close();
    await source.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  const client = ordersClient({ source, target: process.env.ORDERS_TARGET ?? '127.0.0.1:8443' });
  try {
    const reply = await client.place('book', 2);
    console.log(`order ${reply.orderId} placed by ${reply.placedBy} (${me})`);
  } finally {
    client.close();
    await source.close();
  }
}
