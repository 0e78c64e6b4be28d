// A meshless HTTPS server and client, both fed by workloadApiSource, keep serving while their agents
// rotate SVIDs, go away, come back, end streams, answer errors and send bad responses; when the
// agent denies the server, it fails closed, and serves again once the SVID is granted.
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createFetch, type MeshlessFetch } from '@meshless/client';
import { authorize } from '@meshless/core';
import { type CertificateAuthority, createCa } from '@meshless/pki';
import { createServer, peerOf } from '@meshless/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WorkloadApiSource, workloadApiSource } from '../src/index.js';
import { nextEvent, until } from './support/events.js';
import { responseOf, TestWorkloadApi } from './support/workload-api-server.js';

const SERVER = 'spiffe://example.org/ns/prod/sa/orders';
const WEB = 'spiffe://example.org/ns/prod/sa/web';

let ca: CertificateAuthority;
let serverAgent: TestWorkloadApi;
let clientAgent: TestWorkloadApi;
let serverSource: WorkloadApiSource;
let clientSource: WorkloadApiSource;
let server: ReturnType<typeof createServer>;
let url: string;

async function grant(agent: TestWorkloadApi, spiffeId: string): Promise<void> {
  agent.respond({ svids: [{ ...(await ca.issue({ spiffeId })), spiffeId }] });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  ca = await createCa({ trustDomain: 'example.org' });
  [serverAgent, clientAgent] = await Promise.all([TestWorkloadApi.start(), TestWorkloadApi.start()]);
  await grant(serverAgent, SERVER);
  await grant(clientAgent, WEB);
  const options = { startupTimeoutMs: 5000, backoff: { initialMs: 50, maxMs: 200 } };
  serverSource = await workloadApiSource({ address: serverAgent.address, ...options });
  clientSource = await workloadApiSource({ address: clientAgent.address, ...options });
  serverSource.on('error', () => {});
  clientSource.on('error', () => {});
  server = createServer({ source: serverSource, authorize: authorize.id(WEB) }, (req, res) => {
    res.end(String(peerOf(req)?.spiffeId));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await serverSource?.close();
  await clientSource?.close();
  await serverAgent?.close();
  await clientAgent?.close();
});

const fresh = () => createFetch({ source: clientSource, authorizeServer: SERVER });

describe('a meshless server and client fed by workloadApiSource', () => {
  it('keep serving through rotations, agent restarts, error statuses, ended streams and bad responses', async () => {
    const failures: unknown[] = [];
    let requests = 0;
    let running = true;
    // Each worker makes a new agent every few requests, so new handshakes happen in every phase.
    const worker = async () => {
      let fetch: MeshlessFetch | undefined;
      for (let i = 0; running; i++) {
        if (i % 10 === 0) {
          await fetch?.close();
          fetch = fresh();
        }
        try {
          const res = await fetch!(url);
          const body = await res.text();
          if (res.status !== 200 || body !== WEB) failures.push(`${res.status} ${body}`);
          requests++;
        } catch (error) {
          failures.push(error);
        }
      }
      await fetch?.close();
    };
    const workers = Array.from({ length: 4 }, worker);
    const phase = async (what: string, step: () => Promise<void>) => {
      await step().catch((error) => failures.push(`${what}: ${error}`));
      await sleep(150);
    };

    await phase('rotation', async () => {
      for (let i = 0; i < 2; i++) {
        const rotated = Promise.all([nextEvent(serverSource, 'update'), nextEvent(clientSource, 'update')]);
        await grant(serverAgent, SERVER);
        await grant(clientAgent, WEB);
        await rotated;
      }
    });
    await phase('agents away', async () => {
      await Promise.all([serverAgent.stop(), clientAgent.stop()]);
      await until(
        () => serverSource.status === 'reconnecting' && clientSource.status === 'reconnecting',
        'outage',
      );
      await sleep(300);
    });
    await phase('agents back with new SVIDs', async () => {
      await Promise.all([serverAgent.restart(), clientAgent.restart()]);
      const rotated = Promise.all([nextEvent(serverSource, 'update'), nextEvent(clientSource, 'update')]);
      await grant(serverAgent, SERVER);
      await grant(clientAgent, WEB);
      await rotated;
    });
    await phase('UNAVAILABLE answers', async () => {
      serverAgent.answerWith(grpc.status.UNAVAILABLE);
      await sleep(300);
      const rotated = nextEvent(serverSource, 'update');
      await grant(serverAgent, SERVER);
      await rotated;
    });
    await phase('ended streams', async () => {
      const calls = serverAgent.calls;
      serverAgent.endStreams();
      clientAgent.endStreams();
      await until(
        () => serverAgent.calls > calls && serverAgent.openStreams === 1,
        'the server source to reconnect',
      );
    });
    await phase('a bad response', async () => {
      const refused = nextEvent(clientSource, 'error');
      const bad = responseOf({ svids: [{ ...(await ca.issue({ spiffeId: WEB })), spiffeId: WEB }] });
      clientAgent.respond({ ...bad, svids: [{ ...bad.svids[0]!, x509_svid_key: Buffer.alloc(0) }] });
      expect((await refused)[0].code).toBe('ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID');
    });

    running = false;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    expect(serverSource.status).toBe('serving');
    expect(clientSource.status).toBe('serving');
  });

  it('fail closed when the agent denies the server, and serve again once it grants an SVID', async () => {
    const withdrawn = nextEvent(serverSource, 'withdrawn');
    serverAgent.answerWith(grpc.status.PERMISSION_DENIED);
    expect((await withdrawn)[0].code).toBe('ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED');
    const refused = fresh();
    try {
      await expect(refused(url)).rejects.toThrow();
    } finally {
      await refused.close();
    }
    const granted = nextEvent(serverSource, 'update');
    await grant(serverAgent, SERVER);
    await granted;
    const served = fresh();
    try {
      expect(await (await served(url)).text()).toBe(WEB);
    } finally {
      await served.close();
    }
  });

  it('make no new connection when the agent denies the client', async () => {
    const withdrawn = nextEvent(clientSource, 'withdrawn');
    clientAgent.answerWith(grpc.status.PERMISSION_DENIED);
    await withdrawn;
    expect(() => fresh()).toThrow(/PERMISSION_DENIED/);
    const granted = nextEvent(clientSource, 'update');
    await grant(clientAgent, WEB);
    await granted;
    const served = fresh();
    try {
      expect((await served(url)).status).toBe(200);
    } finally {
      await served.close();
    }
  });
});
