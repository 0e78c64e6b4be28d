// Rotation: new connections present the new certificate, old connections finish their requests.
import { memorySource, type TlsMaterial } from '@meshless/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCa } from '../../../test/support/certs.js';
import { createAgent } from '../src/index.js';
import {
  CLIENT_ID,
  describeConnection,
  type Handler,
  makeMesh,
  material,
  SERVER_ID,
  startServer,
  type TestServer,
  waitFor,
} from './helpers.js';

let ca: TestCa;
let first: TlsMaterial;
let second: TlsMaterial;
let serverMaterial: TlsMaterial;
const running: TestServer[] = [];

beforeAll(async () => {
  const mesh = await makeMesh();
  ca = mesh.ca;
  first = mesh.client;
  serverMaterial = mesh.server;
  second = await material(ca, { subject: 'CN=web rotated', uris: [CLIENT_ID] });
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});

/** A server whose `/slow` requests wait until the test releases them. */
async function serveWithSlowPath(http2: boolean) {
  const waiting: (() => void)[] = [];
  const handler: Handler = (req, res) => {
    if (req.url === '/slow') {
      res.setHeader('x-arrived', 'yes');
      waiting.push(() => describeConnection(req, res));
      return;
    }
    describeConnection(req, res);
  };
  const server = await startServer({ material: serverMaterial, handler, http2 });
  running.push(server);
  return {
    server,
    waiting,
    release: () => {
      for (const respond of waiting.splice(0)) respond();
    },
  };
}

async function json(url: string, dispatcher: ReturnType<typeof createAgent>) {
  const res = await request(url, { dispatcher });
  return {
    status: res.statusCode,
    ...((await res.body.json()) as { clientSerial: string; remotePort: number; reused: boolean }),
  };
}

describe.each([
  { protocol: 'HTTP/1.1', http2: false },
  { protocol: 'HTTP/2', http2: true },
])('rotation over $protocol', ({ http2 }) => {
  it('presents the new certificate on new connections and lets in-flight requests finish on the old ones', async () => {
    const { server, waiting, release } = await serveWithSlowPath(http2);
    const source = memorySource(first);
    const agent = createAgent({ source, authorizeServer: SERVER_ID, allowH2: http2 });

    const before = await json(`${server.url}/`, agent);
    expect(before.clientSerial).toBe(first.identity.serialNumber);

    // A request in flight on the old connection when the certificate changes.
    const slow = json(`${server.url}/slow`, agent);
    await waitFor(() => waiting.length === 1);

    expect(source.set(second)).toBe(true);
    expect(agent.material).toBe(second);
    expect(agent.rotations).toBe(1);

    const after = await json(`${server.url}/`, agent);
    expect(after.status).toBe(200);
    expect(after.clientSerial).toBe(second.identity.serialNumber);
    // A new connection, and a full handshake: no session made under the old certificate is resumed.
    expect(after.remotePort).not.toBe(before.remotePort);
    expect(after.reused).toBe(false);

    release();
    const finished = await slow;
    expect(finished.status).toBe(200);
    // Only connections made before the rotation present the first certificate.
    expect(finished.clientSerial).toBe(first.identity.serialNumber);
    // Once their requests are done, the old connections are closed; the new one stays.
    await waitFor(() =>
      [before.remotePort, finished.remotePort].every((port) => server.closedPorts.includes(port)),
    );
    expect(server.closedPorts).not.toContain(after.remotePort);
    await agent.close();
  });

  it('fails no request when the certificate rotates under load', async () => {
    const { server } = await serveWithSlowPath(http2);
    const source = memorySource(first);
    const agent = createAgent({ source, authorizeServer: SERVER_ID, allowH2: http2, connections: 4 });
    const serials = new Set<string>();
    const requests: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 30) source.set(second);
      requests.push(json(`${server.url}/`, agent).then((r) => void serials.add(r.clientSerial)));
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.allSettled(requests);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(serials).toEqual(new Set([first.identity.serialNumber, second.identity.serialNumber]));
    // The old generation's connections close once idle.
    const last = await json(`${server.url}/`, agent);
    expect(last.clientSerial).toBe(second.identity.serialNumber);
    await agent.close();
  });
});

describe('maxConnectionAgeMs', () => {
  it('moves requests to a new connection once a connection is older than the cap', async () => {
    const { server, waiting, release } = await serveWithSlowPath(false);
    const agent = createAgent({
      source: memorySource(first),
      authorizeServer: SERVER_ID,
      maxConnectionAgeMs: 200,
    });
    const young = new Set<number>();
    for (let i = 0; i < 4; i++) young.add((await json(`${server.url}/`, agent)).remotePort);

    // A request still running when its connection passes the cap is not cut.
    const slow = json(`${server.url}/slow`, agent);
    await waitFor(() => waiting.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = await json(`${server.url}/`, agent);
    expect(late.status).toBe(200);
    expect(young.has(late.remotePort)).toBe(false);
    release();
    expect((await slow).status).toBe(200);
    await agent.close();
  });

  it('leaves connections alone without the option', async () => {
    const { server } = await serveWithSlowPath(false);
    const agent = createAgent({ source: memorySource(first), authorizeServer: SERVER_ID });
    const ports = new Set<number>();
    for (let i = 0; i < 4; i++) ports.add((await json(`${server.url}/`, agent)).remotePort);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const later = await json(`${server.url}/`, agent);
    expect(ports.has(later.remotePort)).toBe(true);
    await agent.close();
  });
});

describe('closing', () => {
  it('close() waits for running requests, on old generations too, and stops following the source', async () => {
    const { server, waiting, release } = await serveWithSlowPath(false);
    const source = memorySource(first);
    const agent = createAgent({ source, authorizeServer: SERVER_ID });
    const slow = json(`${server.url}/slow`, agent);
    await waitFor(() => waiting.length === 1);
    source.set(second);
    let closed = false;
    const closing = agent.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release();
    expect((await slow).status).toBe(200);
    await closing;
    expect(agent.closed).toBe(true);
    source.set(first);
    expect(agent.rotations).toBe(1);
  });
});
