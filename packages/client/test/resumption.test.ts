// TLS session resumption: a resumed TLS 1.3 session shows the client no server certificate and
// Node skips checkServerIdentity, so the client checks the identity bound to the session instead.
import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import tls from 'node:tls';
import {
  type AuthorizationDecision,
  authorize,
  channels,
  isMeshlessError,
  memorySource,
  type PeerIdentity,
  type PeerVerdict,
  type TlsMaterial,
} from '@meshless/core';
import { type Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCa } from '../../../test/support/certs.js';
import { createConnector } from '../src/connector.js';
import { createAgent } from '../src/index.js';
import { serverPolicy } from '../src/server-policy.js';
import { type BoundSession, SessionCache } from '../src/session-cache.js';
import {
  describeConnection,
  type Handler,
  makeMesh,
  material,
  meshlessCode,
  OTHER_SERVER_ID,
  rejectionOf,
  SERVER_ID,
  startServer,
  type TestServer,
} from './helpers.js';

/** Closes each HTTP/1.1 connection after its response, so that every request makes a new one. */
const oneRequestPerConnection: Handler = (req, res) => {
  res.setHeader('connection', 'close');
  describeConnection(req, res);
};

let ca: TestCa;
let client: TlsMaterial;
let serverA: TlsMaterial;
const running: TestServer[] = [];

beforeAll(async () => {
  const mesh = await makeMesh();
  ca = mesh.ca;
  client = mesh.client;
  // Reachable by IP with a plain HTTPS client too, so that the undici comparison below is fair.
  serverA = await material(ca, { subject: 'CN=orders', uris: [SERVER_ID], ipAddresses: ['127.0.0.1'] });
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});

async function serve(spec: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(spec);
  running.push(server);
  return server;
}

async function get(url: string, dispatcher: Agent | ReturnType<typeof createAgent>): Promise<number> {
  const res = await request(url, { dispatcher });
  await res.body.text();
  return res.statusCode;
}

/** Collects `meshless:server-verification` messages while `run` runs. */
async function verifications<T>(
  run: () => Promise<T>,
): Promise<{ result: T; messages: Record<string, unknown>[] }> {
  const messages: Record<string, unknown>[] = [];
  const listener = (message: unknown) => messages.push(message as Record<string, unknown>);
  diagnostics.subscribe(channels.serverVerification, listener);
  try {
    return { result: await run(), messages };
  } finally {
    diagnostics.unsubscribe(channels.serverVerification, listener);
  }
}

describe.each([{ version: 'TLSv1.3' as const }, { version: 'TLSv1.2' as const }])(
  'resumption over $version',
  ({ version }) => {
    it('resumes the second connection and still checks the server identity bound to the session', async () => {
      const server = await serve({
        material: serverA,
        handler: oneRequestPerConnection,
        maxVersion: version,
      });
      let allowed = true;
      const policy = (peer: PeerIdentity | undefined): AuthorizationDecision =>
        allowed ? authorize.id(SERVER_ID)(peer) : { allowed: false, reason: 'the test now allows no server' };
      const agent = createAgent({ source: memorySource(client), authorizeServer: policy });

      const { messages } = await verifications(async () => {
        expect(await get(`${server.url}/`, agent)).toBe(200);
        expect(await get(`${server.url}/`, agent)).toBe(200);
      });
      expect(server.connections.map((c) => c.reused)).toEqual([false, true]);
      expect(messages.map((m) => [m.decision, m.resumed, m.actual])).toEqual([
        ['allow', false, SERVER_ID],
        ['allow', true, SERVER_ID],
      ]);

      // The server resumes the session (the client's TLS stack says so in context.resumed); Node
      // would not call checkServerIdentity here, but meshless runs the policy on the bound identity.
      allowed = false;
      const error = await rejectionOf(get(`${server.url}/`, agent));
      expect(isMeshlessError(error, 'ERR_MESHLESS_SERVER_UNAUTHORIZED')).toBe(true);
      expect(isMeshlessError(error) && error.context.resumed).toBe(true);
      expect(isMeshlessError(error) && error.context.actual).toBe(SERVER_ID);

      // The refused session is dropped: the next attempt offers none and makes a full handshake.
      const again = await rejectionOf(get(`${server.url}/`, agent));
      expect(meshlessCode(again)).toBe('ERR_MESHLESS_SERVER_UNAUTHORIZED');
      expect(isMeshlessError(again) && again.context.sessionOffered).toBe(false);
      expect(isMeshlessError(again) && again.context.resumed).toBe(false);
      await agent.destroy();
    });

    it('resumes with the host name check too (no authorizeServer)', async () => {
      const server = await serve({
        material: serverA,
        handler: oneRequestPerConnection,
        maxVersion: version,
      });
      const agent = createAgent({ source: memorySource(client) });
      expect(await get(`${server.url}/`, agent)).toBe(200);
      expect(await get(`${server.url}/`, agent)).toBe(200);
      expect(server.connections.map((c) => c.reused)).toEqual([false, true]);
      await agent.destroy();
    });
  },
);

describe('sessions never cross servers', () => {
  it('does not offer a session from server A to server B on the same host, even when they share ticket keys', async () => {
    // Two services on one host sharing session ticket keys: B could resume A's sessions. Each has
    // its own SPIFFE ID from the same root.
    const ticketKeys = randomBytes(48);
    const serverB = await material(ca, { subject: 'CN=billing', uris: [OTHER_SERVER_ID] });
    const a = await serve({ material: serverA, handler: oneRequestPerConnection, ticketKeys });
    const b = await serve({ material: serverB, handler: oneRequestPerConnection, ticketKeys });

    const agent = createAgent({ source: memorySource(client), authorizeServer: SERVER_ID });
    expect(await get(`${a.url}/`, agent)).toBe(200);
    expect(await get(`${a.url}/`, agent)).toBe(200);
    expect(a.connections.map((c) => c.reused)).toEqual([false, true]);

    const error = await rejectionOf(get(`${b.url}/`, agent));
    expect(meshlessCode(error)).toBe('ERR_MESHLESS_SERVER_UNAUTHORIZED');
    expect(isMeshlessError(error) && error.context.actual).toBe(OTHER_SERVER_ID);
    // The session of A was never offered to B: B went through a full handshake and its own
    // certificate was checked.
    expect(isMeshlessError(error) && error.context.sessionOffered).toBe(false);
    expect(isMeshlessError(error) && error.context.resumed).toBe(false);
    await agent.destroy();
  });
});

describe('a server that holds the ticket keys of another', () => {
  it('is taken for the server the session was made with: ticket keys are as secret as private keys', async () => {
    // A is replaced, on the same address, by B, which holds A's ticket keys. A resumed TLS 1.3
    // session shows no certificate, so no client can tell B from A: whoever can decrypt A's
    // tickets can resume A's sessions. meshless attributes the connection to the identity bound
    // to the session (A's); that is why ticket keys must never be shared between identities.
    const ticketKeys = randomBytes(48);
    const serverB = await material(ca, { subject: 'CN=billing', uris: [OTHER_SERVER_ID] });
    const a = await startServer({ material: serverA, handler: oneRequestPerConnection, ticketKeys });
    const agent = createAgent({ source: memorySource(client), authorizeServer: SERVER_ID });
    const noResumption = createAgent({
      source: memorySource(client),
      authorizeServer: SERVER_ID,
      maxCachedSessions: 0,
    });
    expect(await get(`${a.url}/`, agent)).toBe(200);
    expect(await get(`${a.url}/`, noResumption)).toBe(200);
    await a.close();

    const b = await serve({ material: serverB, handler: oneRequestPerConnection, ticketKeys, port: a.port });
    const { messages } = await verifications(() => get(`${b.url}/`, agent));
    expect(b.connections.map((c) => c.reused)).toEqual([true]);
    expect(messages.map((m) => [m.decision, m.resumed, m.actual])).toEqual([['allow', true, SERVER_ID]]);

    // With maxCachedSessions: 0 every connection is a full handshake, and B is seen for what it is.
    const error = await rejectionOf(get(`${b.url}/`, noResumption));
    expect(meshlessCode(error)).toBe('ERR_MESHLESS_SERVER_UNAUTHORIZED');
    expect(isMeshlessError(error) && error.context.actual).toBe(OTHER_SERVER_ID);
    await agent.destroy();
    await noResumption.destroy();
  });
});

describe('a resumed session whose identity is unknown', () => {
  /** A real session from the server, obtained by a plain TLS client that verified nothing of meshless. */
  async function sessionFrom(server: TestServer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: server.port,
        ca: client.caPem,
        cert: client.certPem,
        key: client.keyPem,
        checkServerIdentity: () => undefined,
      });
      socket.once('session', (session: Buffer) => {
        socket.destroy();
        resolve(session);
      });
      socket.once('error', reject);
    });
  }

  it('is refused with ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN (fail closed)', async () => {
    const server = await serve({ material: serverA });
    const session = await sessionFrom(server);
    // A cache that hands out a session with no identity bound to it: what a bug, or a session
    // that came from anywhere but a verified handshake, would look like.
    const sessions = new (class extends SessionCache {
      override get(): BoundSession {
        return {
          session,
          identity: undefined as unknown as PeerIdentity,
          verdict: undefined as unknown as PeerVerdict,
        };
      }
    })();
    const connect = createConnector({
      material: () => client,
      policy: serverPolicy(SERVER_ID),
      sessions,
      allowH2: false,
      timeout: 5_000,
      socket: {},
    });
    const error = await new Promise<Error | null>((resolve) => {
      connect(
        {
          hostname: '127.0.0.1',
          host: `127.0.0.1:${server.port}`,
          protocol: 'https:',
          port: String(server.port),
        },
        (err, socket) => {
          socket?.destroy();
          resolve(err);
        },
      );
    });
    expect(isMeshlessError(error, 'ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN')).toBe(true);
    expect(isMeshlessError(error) && error.context.resumed).toBe(true);
  });
});

describe('HTTP/2 resumption', () => {
  it('resumes a new HTTP/2 connection and checks the bound identity', async () => {
    const server = await serve({
      material: serverA,
      http2: true,
      handler: (req, res) => {
        describeConnection(req, res);
        // End the HTTP/2 session after the response, so that the next request needs a new connection.
        const session = (req as { stream?: { session?: { close(): void } } }).stream?.session;
        res.on('finish', () => setImmediate(() => session?.close()));
      },
    });
    const agent = createAgent({ source: memorySource(client), authorizeServer: SERVER_ID, allowH2: true });
    expect(await get(`${server.url}/`, agent)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await get(`${server.url}/`, agent)).toBe(200);
    expect(server.connections.map((c) => [c.alpn, c.reused])).toEqual([
      ['h2', false],
      ['h2', true],
    ]);
    await agent.destroy();
  });
});
