// Rotation under load, end to end: a meshless server and a meshless client, each fed by
// watchCertificateFiles on a Kubernetes-style secret volume, under a steady bounded load on keep-alive
// and fresh connections. Six server swaps, then six client swaps: no request may fail, and a fresh
// connection must see each new certificate within a second.
import { mkdtemp, rm } from 'node:fs/promises';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { createAgent, type MeshlessAgent } from '@meshless/client';
import { authorize } from '@meshless/core';
import { type CertificateAuthority, createCa, writeSecretVolume } from '@meshless/pki';
import { createServer, peerOf } from '@meshless/server';
import { type FileCertificateSource, watchCertificateFiles } from '@meshless/watcher';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../support/https-client.js';

const SERVER_ID = 'spiffe://example.org/ns/shop/sa/billing';
const CLIENT_ID = 'spiffe://example.org/ns/shop/sa/orders';
const SWAPS = 6;

let dir: string;
let ca: CertificateAuthority;
let serverSource: FileCertificateSource;
let clientSource: FileCertificateSource;
let server: https.Server;
let agent: MeshlessAgent;
let url: string;

async function volume(name: string, spiffeId: string): Promise<{ dir: string; serial: string }> {
  const issued = await ca.issue({ spiffeId, ttl: '1h' });
  const volumeDir = join(dir, name);
  await writeSecretVolume(volumeDir, {
    'tls.crt': issued.chainPem,
    'tls.key': issued.keyPem,
    'ca.crt': issued.caPem,
  });
  return { dir: volumeDir, serial: issued.serialNumber.toUpperCase() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshless-rotation-load-'));
  ca = await createCa({ trustDomain: 'example.org' });
  serverSource = await watchCertificateFiles({
    dir: (await volume('server', SERVER_ID)).dir,
    layout: 'cert-manager',
  });
  clientSource = await watchCertificateFiles({
    dir: (await volume('client', CLIENT_ID)).dir,
    layout: 'cert-manager',
  });
  server = createServer({ source: serverSource, authorize: authorize.id(CLIENT_ID) }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ clientSerial: peerOf(req)?.serialNumber }));
  });
  url = `https://127.0.0.1:${await listen(server)}`;
  agent = createAgent({ source: clientSource, authorizeServer: SERVER_ID });
});

afterAll(async () => {
  await agent?.close();
  if (server) await close(server);
  await serverSource?.close();
  await clientSource?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Load {
  made: number;
  failed: number;
  failures: string[];
}

/** Workers on keep-alive connections, and one that opens a fresh connection for every request. */
function startLoad(): { load: Load; stop: () => Promise<Load> } {
  const load: Load = { made: 0, failed: 0, failures: [] };
  let running = true;
  const worker = async (fresh: boolean) => {
    while (running) {
      load.made++;
      try {
        const answer = await request(`${url}/`, { dispatcher: agent, reset: fresh });
        await answer.body.json();
        if (answer.statusCode !== 200) throw new Error(`HTTP ${answer.statusCode}`);
      } catch (error) {
        load.failed++;
        if (load.failures.length < 5)
          load.failures.push(String((error as Error & { code?: string }).code ?? error));
      }
      await sleep(2);
    }
  };
  const workers = [worker(false), worker(false), worker(false), worker(true)];
  return {
    load,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return load;
    },
  };
}

/** The serial a server shows a brand-new connection (no session resumption). */
function servedSerial(clientVolume: { cert: string; key: string; ca: string }): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(url);
    const socket = tls.connect(
      { host: '127.0.0.1', port: Number(port), ...clientVolume, checkServerIdentity: () => undefined },
      () => {
        const serial = socket.getPeerX509Certificate()?.serialNumber;
        socket.end();
        resolve(serial);
      },
    );
    socket.setTimeout(2000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
  });
}

async function waitFor(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await check()) return performance.now() - started;
    await sleep(10);
  }
  return Number.POSITIVE_INFINITY;
}

describe('rotation under load', () => {
  it(`survives ${SWAPS} server swaps and ${SWAPS} client swaps with zero failed requests`, async () => {
    const running = startLoad();
    const serverPickups: number[] = [];
    const clientPickups: number[] = [];
    try {
      await sleep(200);
      for (let i = 0; i < SWAPS; i++) {
        const next = await volume('server', SERVER_ID);
        const current = clientSource.current();
        const credentials = { cert: current.certPem, key: current.keyPem, ca: current.caPem };
        serverPickups.push(
          await waitFor(async () => (await servedSerial(credentials)) === next.serial, 1000),
        );
        await sleep(100);
      }
      for (let i = 0; i < SWAPS; i++) {
        const next = await volume('client', CLIENT_ID);
        clientPickups.push(
          await waitFor(async () => {
            const answer = await request(`${url}/`, { dispatcher: agent, reset: true });
            const { clientSerial } = (await answer.body.json()) as { clientSerial: string };
            return clientSerial === next.serial;
          }, 1000),
        );
        await sleep(100);
      }
      await sleep(200);
    } finally {
      await running.stop();
    }
    const { load } = running;
    expect(
      serverPickups.every((ms) => ms < 1000),
      `server pickups (ms): ${serverPickups.map(Math.round)}`,
    ).toBe(true);
    expect(
      clientPickups.every((ms) => ms < 1000),
      `client pickups (ms): ${clientPickups.map(Math.round)}`,
    ).toBe(true);
    expect(load.failures).toEqual([]);
    expect(load.failed).toBe(0);
    expect(load.made).toBeGreaterThan(200);
    expect(serverSource.status().rotations).toBe(SWAPS);
    expect(clientSource.status().rotations).toBe(SWAPS);
  }, 60_000);
});
