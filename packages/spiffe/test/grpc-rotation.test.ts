import tls from 'node:tls';
import { authorize } from '@meshless/core';
import { type CertificateAuthority, createCa } from '@meshless/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  grpcChannelCredentials,
  grpcServerCredentials,
  type WorkloadApiSource,
  workloadApiSource,
} from '../src/index.js';
import { type EchoClient, type EchoServer, echoClient, startEcho } from './support/echo-service.js';
import { nextEvent } from './support/events.js';
import { TestWorkloadApi } from './support/workload-api-server.js';

const SERVER = 'spiffe://example.org/ns/prod/sa/orders';
const WEB = 'spiffe://example.org/ns/prod/sa/web';

let ca: CertificateAuthority;
let serverAgent: TestWorkloadApi;
let clientAgent: TestWorkloadApi;
let serverSource: WorkloadApiSource;
let clientSource: WorkloadApiSource;
let echo: EchoServer;

async function grant(agent: TestWorkloadApi, spiffeId: string): Promise<void> {
  agent.respond({ svids: [{ ...(await ca.issue({ spiffeId })), spiffeId }] });
}

beforeAll(async () => {
  ca = await createCa({ trustDomain: 'example.org' });
  [serverAgent, clientAgent] = await Promise.all([TestWorkloadApi.start(), TestWorkloadApi.start()]);
  await grant(serverAgent, SERVER);
  await grant(clientAgent, WEB);
  const options = { startupTimeoutMs: 5000, backoff: { initialMs: 50, maxMs: 200 } };
  serverSource = await workloadApiSource({ address: serverAgent.address, ...options });
  clientSource = await workloadApiSource({ address: clientAgent.address, ...options });
  echo = await startEcho(grpcServerCredentials(serverSource, { authorize: authorize.id(WEB) }));
});

afterAll(async () => {
  await echo?.close();
  await serverSource?.close();
  await clientSource?.close();
  await serverAgent?.close();
  await clientAgent?.close();
});

// The serial of the certificate the gRPC server presents to a new connection now.
function servedSerial(): Promise<string> {
  const material = clientSource.current();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: echo.port,
      ca: material.caPem,
      cert: material.certPem,
      key: material.keyPem,
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerX509Certificate()?.serialNumber ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('gRPC fed by workloadApiSource on both sides', () => {
  it('rotates under load with zero failed calls, new connections taking the new SVIDs', async () => {
    const credentials = grpcChannelCredentials(clientSource, { authorizeServer: SERVER });
    const failures: unknown[] = [];
    const serials = new Set<string>();
    let calls = 0;
    let running = true;
    // Each worker opens a new channel every few calls, so handshakes keep happening during rotations.
    const worker = async () => {
      let client: EchoClient | undefined;
      for (let i = 0; running; i++) {
        if (i % 15 === 0) {
          client?.close();
          client = echoClient(echo.port, credentials);
        }
        try {
          const reply = await client!.whoami();
          serials.add(reply.serial);
          calls++;
        } catch (error) {
          failures.push(error);
        }
      }
      client?.close();
    };
    const workers = Array.from({ length: 6 }, worker);
    for (let rotation = 0; rotation < 4; rotation++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const serverRotated = nextEvent(serverSource, 'update');
      const clientRotated = nextEvent(clientSource, 'update');
      await grant(serverAgent, SERVER);
      await grant(clientAgent, WEB);
      await Promise.all([serverRotated, clientRotated]);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
    running = false;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(100);
    // The server saw the client's certificates of several rotations, the last one included.
    expect(serials.size).toBeGreaterThanOrEqual(3);
    expect(serials.has(clientSource.current().identity.serialNumber)).toBe(true);
    expect(await servedSerial()).toBe(serverSource.current().identity.serialNumber);
  });

  it('keeps serving while both agents are away and after they restart', async () => {
    const client = echoClient(echo.port, grpcChannelCredentials(clientSource, { authorizeServer: SERVER }));
    try {
      serverSource.on('error', () => {});
      clientSource.on('error', () => {});
      await Promise.all([serverAgent.stop(), clientAgent.stop()]);
      expect((await client.whoami()).caller).toBe(WEB);
      const fresh = echoClient(echo.port, grpcChannelCredentials(clientSource, { authorizeServer: SERVER }));
      expect((await fresh.whoami()).caller).toBe(WEB);
      fresh.close();
      await Promise.all([serverAgent.restart(), clientAgent.restart()]);
      const rotated = nextEvent(clientSource, 'update');
      await grant(clientAgent, WEB);
      await grant(serverAgent, SERVER);
      await rotated;
      const after = echoClient(echo.port, grpcChannelCredentials(clientSource, { authorizeServer: SERVER }));
      expect((await after.whoami()).serial).toBe(clientSource.current().identity.serialNumber);
      after.close();
    } finally {
      client.close();
    }
  });
});
