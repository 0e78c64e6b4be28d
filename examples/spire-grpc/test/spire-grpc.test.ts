// Smoke test of the example against the test Workload API server (packages/spiffe/test/support),
// standing in for the SPIRE agent: the orders gRPC server and the frontend client each get their SVID
// over the Workload API, call each other over mutual TLS, rotate, and ride out an agent restart.
import * as grpc from '@grpc/grpc-js';
import { type CertificateAuthority, createCa } from '@meshless/pki';
import { type WorkloadApiSource, workloadApiSource } from '@meshless/spiffe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestWorkloadApi } from '../../../packages/spiffe/test/support/workload-api-server.js';
import { ordersClient } from '../src/client.mjs';
import { FRONTEND_ID, ORDERS_ID, TRUST_DOMAIN } from '../src/identities.mjs';
import { startOrdersServer } from '../src/server.mjs';

let ca: CertificateAuthority;
const agents: TestWorkloadApi[] = [];
const sources: WorkloadApiSource[] = [];
let orders: Awaited<ReturnType<typeof startOrdersServer>>;
let ordersAgent: TestWorkloadApi;
let ordersSource: WorkloadApiSource;

async function grant(agent: TestWorkloadApi, spiffeId: string): Promise<void> {
  agent.respond({ svids: [{ ...(await ca.issue({ spiffeId, ttl: '1h' })), spiffeId }] });
}

// One agent per workload: the test server hands the same SVIDs to every caller, where SPIRE would
// tell the callers apart by attesting their processes.
async function workload(spiffeId: string): Promise<{ agent: TestWorkloadApi; source: WorkloadApiSource }> {
  const agent = await TestWorkloadApi.start();
  agents.push(agent);
  await grant(agent, spiffeId);
  const source = await workloadApiSource({
    address: agent.address,
    startupTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 200 },
  });
  source.on('error', () => {});
  sources.push(source);
  return { agent, source };
}

function rotated(source: WorkloadApiSource): Promise<void> {
  return new Promise((resolve) => source.once('update', () => resolve()));
}

beforeAll(async () => {
  ca = await createCa({ trustDomain: TRUST_DOMAIN });
  ({ agent: ordersAgent, source: ordersSource } = await workload(ORDERS_ID));
  orders = await startOrdersServer({ source: ordersSource, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await orders?.close();
  for (const source of sources) await source.close();
  for (const agent of agents) await agent.close();
});

describe('example: spire-grpc', () => {
  it('the frontend places an order; orders sees the frontend’s SPIFFE ID', async () => {
    const { source } = await workload(FRONTEND_ID);
    const client = ordersClient({ source, target: `127.0.0.1:${orders.port}` });
    try {
      const reply = await client.place('book', 2);
      expect(reply.placedBy).toBe(FRONTEND_ID);
      expect(reply.orderId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      client.close();
    }
  });

  it('another workload of the trust domain is denied', async () => {
    const { source } = await workload(`spiffe://${TRUST_DOMAIN}/ns/shop/sa/reports`);
    const client = ordersClient({ source, target: `127.0.0.1:${orders.port}` });
    try {
      await expect(client.place('book')).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    } finally {
      client.close();
    }
  });

  it('the frontend refuses a server that is not orders', async () => {
    const { source } = await workload(FRONTEND_ID);
    const client = ordersClient({
      source,
      target: `127.0.0.1:${orders.port}`,
      serverId: `spiffe://${TRUST_DOMAIN}/ns/shop/sa/billing`,
    });
    try {
      await expect(client.place('book')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      client.close();
    }
  });

  it('keeps serving through SVID rotations and an agent restart', async () => {
    const { agent, source } = await workload(FRONTEND_ID);
    const client = ordersClient({ source, target: `127.0.0.1:${orders.port}` });
    try {
      const both = Promise.all([rotated(ordersSource), rotated(source)]);
      await grant(ordersAgent, ORDERS_ID);
      await grant(agent, FRONTEND_ID);
      await both;
      expect((await client.place('pen')).placedBy).toBe(FRONTEND_ID);
      await ordersAgent.stop();
      expect((await client.place('pen')).placedBy).toBe(FRONTEND_ID);
      await ordersAgent.restart();
      const back = rotated(ordersSource);
      await grant(ordersAgent, ORDERS_ID);
      await back;
      const fresh = ordersClient({ source, target: `127.0.0.1:${orders.port}` });
      expect((await fresh.place('pen')).placedBy).toBe(FRONTEND_ID);
      fresh.close();
    } finally {
      client.close();
    }
  });
});
