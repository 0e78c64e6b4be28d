// The agent as an undici dispatcher: undici's request and fetch, setGlobalDispatcher, and what
// Node's built-in fetch (its own bundled undici) does with it.
import diagnostics from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import { isMeshlessError, memorySource, type TlsMaterial } from '@meshless/core';
import { Agent, fetch, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createFetch, MeshlessAgent } from '../src/index.js';
import {
  makeMesh,
  material,
  meshlessCode,
  OTHER_SERVER_ID,
  rejectionOf,
  SERVER_ID,
  startServer,
  type TestServer,
} from './helpers.js';

let client: TlsMaterial;
let server: TestServer;
let other: TestServer;

beforeAll(async () => {
  const mesh = await makeMesh();
  client = mesh.client;
  server = await startServer({ material: mesh.server });
  other = await startServer({
    material: await material(mesh.ca, { subject: 'CN=billing', uris: [OTHER_SERVER_ID] }),
  });
});

afterAll(async () => {
  await server.close();
  await other.close();
});

const agents: MeshlessAgent[] = [];
function agent(): MeshlessAgent {
  const made = createAgent({ source: memorySource(client), authorizeServer: SERVER_ID });
  agents.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.destroy()));
});

describe('with undici (the copy @meshless/client depends on)', () => {
  it('request(url, { dispatcher })', async () => {
    const res = await request(`${server.url}/`, { dispatcher: agent() });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { clientSerial: string }).clientSerial).toBe(
      client.identity.serialNumber,
    );
  });

  it('fetch(url, { dispatcher })', async () => {
    const res = await fetch(`${server.url}/`, { dispatcher: agent() });
    expect(res.status).toBe(200);
    const error = await rejectionOf(fetch(`${other.url}/`, { dispatcher: agent() }));
    expect(error.message).toBe('fetch failed');
    expect(isMeshlessError(error.cause, 'ERR_MESHLESS_SERVER_UNAUTHORIZED')).toBe(true);
  });

  it('agent.request() and compose(), inherited from Dispatcher', async () => {
    const a = agent();
    const res = await a.request({ origin: server.url, path: '/', method: 'GET' });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const seen: string[] = [];
    const composed = a.compose((dispatch) => (options, handler) => {
      seen.push(String(options.path));
      return dispatch(options, handler);
    });
    const again = await request(`${server.url}/composed`, { dispatcher: composed });
    await again.body.text();
    expect(seen).toEqual(['/composed']);
  });

  it('setGlobalDispatcher(agent): request and fetch without a dispatcher use it', async () => {
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(agent());
    try {
      expect((await request(`${server.url}/`)).statusCode).toBe(200);
      expect((await fetch(`${server.url}/`)).status).toBe(200);
      expect(meshlessCode(await rejectionOf(fetch(`${other.url}/`)))).toBe(
        'ERR_MESHLESS_SERVER_UNAUTHORIZED',
      );
    } finally {
      setGlobalDispatcher(previous);
    }
  });

  it('createFetch(options) binds fetch to a new agent, and ignores a dispatcher passed per call', async () => {
    const bound = createFetch({ source: memorySource(client), authorizeServer: SERVER_ID });
    try {
      expect(bound.agent).toBeInstanceOf(MeshlessAgent);
      const stray = new Agent();
      expect((await bound(`${server.url}/`, { dispatcher: stray })).status).toBe(200);
      await stray.close();
      const error = await rejectionOf(bound(`${other.url}/`));
      expect(meshlessCode(error)).toBe('ERR_MESHLESS_SERVER_UNAUTHORIZED');
    } finally {
      await bound.close();
    }
    expect(bound.agent.closed).toBe(true);
  });

  it('hands undici sockets whose error-translating emit is named emit, so stack traces through it stay cheap', async () => {
    // V8 names a stack frame's method by looking up the function's own name on the receiver first,
    // and searches every property of the socket and its prototypes otherwise; Node's streams format
    // the stack of the error undici destroys each closing connection with.
    const sockets: TLSSocket[] = [];
    const onConnected = (message: unknown) => sockets.push((message as { socket: TLSSocket }).socket);
    diagnostics.subscribe('undici:client:connected', onConnected);
    try {
      const res = await request(`${server.url}/`, { dispatcher: agent(), reset: true });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    } finally {
      diagnostics.unsubscribe('undici:client:connected', onConnected);
    }
    expect(sockets).toHaveLength(1);
    expect(Object.hasOwn(sockets[0] as object, 'emit')).toBe(true);
    expect(sockets[0]?.emit.name).toBe('emit');
  });

  it('createFetch(agent) reuses an existing agent', async () => {
    const a = agent();
    const bound = createFetch(a);
    expect(bound.agent).toBe(a);
    expect((await bound(`${server.url}/`)).status).toBe(200);
  });
});

describe(`with Node's built-in fetch (Node ${process.versions.node}, bundled undici ${process.versions.undici})`, () => {
  // Node's fetch is another copy of undici, of another major on each line: 6 on Node 20 and 22, 7 on
  // 24, 8 on 26. It calls the agent's dispatch() with its own handlers, which the agent (undici 7)
  // accepts. CI runs this file on every line (scripts/test-node-lines.sh), so each pairing is tested.
  it('globalThis.fetch(url, { dispatcher: agent }) works and keeps the meshless cause', async () => {
    const res = await globalThis.fetch(`${server.url}/`, { dispatcher: agent() } as unknown as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { clientSerial: string }).clientSerial).toBe(client.identity.serialNumber);
    const error = await rejectionOf(
      globalThis.fetch(`${other.url}/`, { dispatcher: agent() } as unknown as RequestInit),
    );
    expect(error.message).toBe('fetch failed');
    expect(isMeshlessError(error.cause, 'ERR_MESHLESS_SERVER_UNAUTHORIZED')).toBe(true);
  });

  it("setGlobalDispatcher from undici also routes Node's fetch (both read the same global symbol)", async () => {
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(agent());
    try {
      const res = await globalThis.fetch(`${server.url}/`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { clientSerial: string }).clientSerial).toBe(
        client.identity.serialNumber,
      );
    } finally {
      setGlobalDispatcher(previous);
    }
  });
});
