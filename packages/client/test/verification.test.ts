// The server checks of a meshless client, over real TLS on 127.0.0.1, for HTTP/1.1 and HTTP/2.
import { authorize, isMeshlessError, memorySource, type TlsMaterial } from '@meshless/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRoot, type TestCa } from '../../../test/support/certs.js';
import { type ClientOptions, createAgent, createFetch } from '../src/index.js';
import {
  CLIENT_ID,
  causes,
  makeMesh,
  material,
  meshlessCode,
  OTHER_SERVER_ID,
  rejectionOf,
  SERVER_ID,
  startServer,
  TD,
  type TestServer,
} from './helpers.js';

let ca: TestCa;
let client: TlsMaterial;
let servers: Record<string, TlsMaterial>;
let strangerClient: TlsMaterial;

beforeAll(async () => {
  const mesh = await makeMesh();
  ca = mesh.ca;
  client = mesh.client;
  const foreign = await makeRoot({ trustDomain: 'foreign.test' });
  servers = {
    // A SPIFFE server certificate with no DNS or IP name at all, as SPIRE issues them.
    spiffeOnly: mesh.server,
    other: await material(ca, { subject: 'CN=billing', uris: [OTHER_SERVER_ID] }),
    noSpiffeId: await material(ca, {
      subject: 'CN=legacy',
      uris: [],
      ipAddresses: ['127.0.0.1'],
      dnsNames: ['legacy.test'],
    }),
    withIp: await material(ca, { subject: 'CN=orders-ip', uris: [SERVER_ID], ipAddresses: ['127.0.0.1'] }),
    withDns: await material(ca, { subject: 'CN=orders-dns', uris: [SERVER_ID], dnsNames: ['orders.test'] }),
    foreign: await material(foreign, {
      subject: 'CN=impostor',
      uris: [SERVER_ID],
      ipAddresses: ['127.0.0.1'],
    }),
  };
  strangerClient = await material(foreign, {
    subject: 'CN=stranger',
    uris: [`spiffe://foreign.test/ns/x/sa/web`],
  });
});

const running: TestServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});

async function serve(name: keyof typeof servers, http2: boolean, clientCa?: string): Promise<TestServer> {
  const server = await startServer({
    material: servers[name] as TlsMaterial,
    http2,
    ...(clientCa ? { clientCa } : {}),
  });
  running.push(server);
  return server;
}

/** Sends one request through a fresh agent and returns the status, or the failure. */
async function call(
  url: string,
  options: Partial<ClientOptions>,
  http2: boolean,
): Promise<{ status?: number; error?: Error; body?: string }> {
  const agent = createAgent({ source: memorySource(client), allowH2: http2, ...options });
  try {
    const res = await request(url, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (error) {
    return { error: error as Error };
  } finally {
    await agent.destroy();
  }
}

describe.each([
  { protocol: 'HTTP/1.1', http2: false },
  { protocol: 'HTTP/2', http2: true },
])('server verification over $protocol', ({ http2 }) => {
  it('accepts a server whose SPIFFE ID is allowed, called by IP address with no IP or DNS name in its certificate', async () => {
    const server = await serve('spiffeOnly', http2);
    const result = await call(`${server.url}/`, { authorizeServer: SERVER_ID }, http2);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect(server.connections[0]?.alpn).toBe(http2 ? 'h2' : 'http/1.1');
    expect(JSON.parse(result.body as string).clientSerial).toBe(client.identity.serialNumber);
  });

  it('accepts an authorizer as authorizeServer', async () => {
    const server = await serve('spiffeOnly', http2);
    const result = await call(`${server.url}/`, { authorizeServer: authorize.memberOf(TD) }, http2);
    expect(result.status).toBe(200);
  });

  it('refuses a server with another SPIFFE ID, saying what was expected and what was found', async () => {
    const server = await serve('other', http2);
    const { error } = await call(`${server.url}/`, { authorizeServer: SERVER_ID }, http2);
    expect(isMeshlessError(error, 'ERR_MESHLESS_SERVER_UNAUTHORIZED')).toBe(true);
    if (!isMeshlessError(error)) return;
    expect(error.context.expected).toBe(SERVER_ID);
    expect(error.context.actual).toBe(OTHER_SERVER_ID);
    expect(error.message).toContain(`expected ${SERVER_ID}`);
    expect(error.message).toContain(`found server ID ${OTHER_SERVER_ID}`);
    // The refusal happens in the handshake: the server never sees a request.
    expect(server.connections.length).toBeLessThanOrEqual(1);
  });

  it('refuses a server whose certificate has no SPIFFE ID when authorizeServer is set', async () => {
    const server = await serve('noSpiffeId', http2);
    const { error } = await call(`${server.url}/`, { authorizeServer: SERVER_ID }, http2);
    expect(meshlessCode(error)).toBe('ERR_MESHLESS_SERVER_UNAUTHORIZED');
    expect(error?.message).toContain('without a SPIFFE ID');
  });

  it('checks the host name when there is no authorizeServer', async () => {
    const withIp = await serve('withIp', http2);
    expect((await call(`${withIp.url}/`, {}, http2)).status).toBe(200);

    const spiffeOnly = await serve('spiffeOnly', http2);
    const { error } = await call(`${spiffeOnly.url}/`, {}, http2);
    expect(meshlessCode(error)).toBe('ERR_MESHLESS_SERVER_NAME_MISMATCH');
    expect(error?.message).toContain('authorizeServer');

    // A DNS name in the certificate, reached by IP with the name sent as SNI.
    const withDns = await serve('withDns', http2);
    const named = await call(`${withDns.url}/`, { connect: { servername: 'orders.test' } }, http2);
    expect(named.status).toBe(200);
    const wrongName = await call(`${withDns.url}/`, { connect: { servername: 'billing.test' } }, http2);
    expect(meshlessCode(wrongName.error)).toBe('ERR_MESHLESS_SERVER_NAME_MISMATCH');
  });

  it('refuses a server whose chain comes from a foreign CA, whatever its SPIFFE ID', async () => {
    const server = await serve('foreign', http2);
    for (const options of [{ authorizeServer: SERVER_ID }, {}]) {
      const { error } = await call(`${server.url}/`, options, http2);
      expect(meshlessCode(error)).toBe('ERR_MESHLESS_SERVER_CERT_UNTRUSTED');
      expect(isMeshlessError(error) && error.context.tlsCode).toBe('SELF_SIGNED_CERT_IN_CHAIN');
      expect((error as Error).cause).toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    }
  });

  it('reports a server that does not accept our certificate as ERR_MESHLESS_CLIENT_CERT_REJECTED', async () => {
    // The server trusts another CA for client certificates. Node's server closes the connection
    // after the TLS 1.3 handshake without an alert; the client must still say what happened.
    const server = await serve('spiffeOnly', http2, servers.foreign?.caPem);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { error } = await call(`${server.url}/`, { authorizeServer: SERVER_ID }, http2);
      expect(meshlessCode(error)).toBe('ERR_MESHLESS_CLIENT_CERT_REJECTED');
      expect(error?.message).toContain('client certificate');
    }
    expect(server.connections).toHaveLength(0);
  });

  it('reports the same failure through createFetch as the cause of "fetch failed"', async () => {
    const server = await serve('spiffeOnly', http2, servers.foreign?.caPem);
    const fetch = createFetch({ source: memorySource(client), authorizeServer: SERVER_ID, allowH2: http2 });
    const error = await rejectionOf(fetch(`${server.url}/`));
    await fetch.close();
    expect(error).toBeInstanceOf(TypeError);
    expect(isMeshlessError(error.cause, 'ERR_MESHLESS_CLIENT_CERT_REJECTED')).toBe(true);
  });

  it('refuses to talk to a client whose chain the server does not trust, from the server side too', async () => {
    // The reverse case, for completeness: a client with a foreign certificate, a server that trusts only ours.
    const server = await serve('spiffeOnly', http2);
    const agent = createAgent({
      source: memorySource(strangerClient),
      authorizeServer: SERVER_ID,
      allowH2: http2,
    });
    const error = await rejectionOf(request(`${server.url}/`, { dispatcher: agent }));
    await agent.destroy();
    // Our client does not trust the server either (foreign bundle): the chain error comes first.
    expect(meshlessCode(error)).toBe('ERR_MESHLESS_SERVER_CERT_UNTRUSTED');
  });
});

describe('connection refusals that are not about identity', () => {
  it('refuses plaintext http: URLs', async () => {
    const agent = createAgent({ source: memorySource(client), authorizeServer: SERVER_ID });
    const error = await rejectionOf(request('http://127.0.0.1:9/', { dispatcher: agent }));
    await agent.destroy();
    expect(meshlessCode(error)).toBe('ERR_MESHLESS_PLAINTEXT_REFUSED');
  });

  it('names a plaintext server answering on a TLS port', async () => {
    const http = await import('node:http');
    const plain = http.createServer((_req, res) => res.end('plaintext'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const { port } = plain.address() as { port: number };
    const agent = createAgent({ source: memorySource(client), authorizeServer: SERVER_ID });
    const error = await rejectionOf(request(`https://127.0.0.1:${port}/`, { dispatcher: agent }));
    await agent.destroy();
    await new Promise((resolve) => plain.close(resolve));
    expect(meshlessCode(error)).toBe('ERR_MESHLESS_TLS_HANDSHAKE_FAILED');
    expect(error.message).toContain('plaintext');
  });

  it('keeps connection-refused errors as they are, so that retry logic still recognizes them', async () => {
    const agent = createAgent({ source: memorySource(client), authorizeServer: SERVER_ID });
    const error = await rejectionOf(request('https://127.0.0.1:9/', { dispatcher: agent }));
    await agent.destroy();
    expect(causes(error).some((e) => (e as { code?: string }).code === 'ECONNREFUSED')).toBe(true);
  });

  it('presents our SPIFFE ID to the server', async () => {
    const server = await serve('spiffeOnly', false);
    const result = await call(`${server.url}/`, { authorizeServer: SERVER_ID }, false);
    expect(result.status).toBe(200);
    expect(client.identity.spiffeId?.toString()).toBe(CLIENT_ID);
    expect(JSON.parse(result.body as string).clientSerial).toBe(client.identity.serialNumber);
  });
});
