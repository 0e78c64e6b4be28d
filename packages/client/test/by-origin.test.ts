// One agent, several services: the expected server identity per origin (authorizeServerByOrigin),
// over real TLS on 127.0.0.1, and a clear refusal for an origin the agent has no expectation for.
import { authorize, isMeshlessError, memorySource, type TlsMaterial } from '@meshless/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientOptions, createAgent, createFetch } from '../src/index.js';
import {
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

let client: TlsMaterial;
let orders: TestServer;
let billing: TestServer;
let unlisted: TestServer;

beforeAll(async () => {
  const mesh = await makeMesh();
  client = mesh.client;
  const billingMaterial = await material(mesh.ca, { subject: 'CN=billing', uris: [OTHER_SERVER_ID] });
  [orders, billing, unlisted] = await Promise.all([
    startServer({ material: mesh.server }),
    startServer({ material: billingMaterial }),
    startServer({ material: mesh.server }),
  ]);
});

afterAll(async () => {
  await Promise.all([orders, billing, unlisted].map((server) => server?.close()));
});

function agentWith(byOrigin: ClientOptions['authorizeServerByOrigin']) {
  return createAgent({ source: memorySource(client), authorizeServerByOrigin: byOrigin });
}

describe('authorizeServerByOrigin', () => {
  it('lets one agent call two services, each checked against its own expected SPIFFE ID', async () => {
    const agent = agentWith({
      [orders.url]: SERVER_ID,
      // An authorizer works as the expectation too.
      [billing.url]: authorize.id(OTHER_SERVER_ID),
    });
    try {
      for (const server of [orders, billing]) {
        const res = await request(`${server.url}/`, { dispatcher: agent });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      }
    } finally {
      await agent.destroy();
    }
  });

  it('refuses a server whose identity is the one expected at another origin', async () => {
    // Swapped expectations: each server is real and trusted, but not the one expected at its origin.
    const agent = agentWith(
      new Map([
        [orders.url, OTHER_SERVER_ID],
        [billing.url, SERVER_ID],
      ]),
    );
    try {
      for (const [server, expected, found] of [
        [orders, OTHER_SERVER_ID, SERVER_ID],
        [billing, SERVER_ID, OTHER_SERVER_ID],
      ] as const) {
        const error = await rejectionOf(request(`${server.url}/`, { dispatcher: agent }));
        expect(isMeshlessError(error, 'ERR_MESHLESS_SERVER_UNAUTHORIZED')).toBe(true);
        if (!isMeshlessError(error)) return;
        expect(error.context.expected).toBe(expected);
        expect(error.context.actual).toBe(found);
      }
    } finally {
      await agent.destroy();
    }
  });

  it('refuses an origin it has no expectation for with ERR_MESHLESS_ORIGIN_NOT_CONFIGURED, without connecting', async () => {
    const agent = agentWith({ [orders.url]: SERVER_ID });
    const fetch = createFetch({
      source: memorySource(client),
      authorizeServerByOrigin: { [orders.url]: SERVER_ID },
    });
    try {
      const error = await rejectionOf(request(`${unlisted.url}/`, { dispatcher: agent }));
      expect(isMeshlessError(error, 'ERR_MESHLESS_ORIGIN_NOT_CONFIGURED')).toBe(true);
      if (!isMeshlessError(error)) return;
      expect(error.context.origin).toBe(unlisted.url);
      expect(error.context.expected).toBe(orders.url);
      expect(error.message).toContain(`no expected server identity for ${unlisted.url}`);
      // Through fetch, the same code is the cause of "fetch failed".
      expect(meshlessCode(await rejectionOf(fetch(`${unlisted.url}/`)))).toBe(
        'ERR_MESHLESS_ORIGIN_NOT_CONFIGURED',
      );
      // Nothing reached the server: the client certificate was never shown to it.
      expect(unlisted.connections).toEqual([]);
      expect(unlisted.refused).toEqual([]);
      // The configured origin still works on the same agent.
      const res = await request(`${orders.url}/`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    } finally {
      await agent.destroy();
      await fetch.close();
    }
  });

  it('matches origins in canonical form (host case, default port)', async () => {
    const port = new URL(orders.url).port;
    const agent = agentWith({ [`HTTPS://127.0.0.1:${port}/`]: SERVER_ID });
    try {
      const res = await request(`${orders.url}/health`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    } finally {
      await agent.destroy();
    }
  });

  it.each([
    ['an empty map', {}, /names no origin/],
    ['an http: origin', { 'http://orders:8080': SERVER_ID }, /only https: origins/],
    ['a URL with a path', { 'https://orders:8443/api': SERVER_ID }, /more than an origin/],
    ['something that is not a URL', { orders: SERVER_ID }, /not an origin/],
    [
      'the same origin twice',
      new Map([
        ['https://orders:443', SERVER_ID],
        ['https://ORDERS', SERVER_ID],
      ]),
      /twice/,
    ],
    ['an invalid SPIFFE ID', { 'https://orders': 'spiffe://' }, /https:\/\/orders:/],
    ['an array', [SERVER_ID], /must be a Map or an object/],
  ])('refuses %s at construction', (_name, byOrigin, message) => {
    expect(() =>
      createAgent({
        source: memorySource(client),
        authorizeServerByOrigin: byOrigin as ClientOptions['authorizeServerByOrigin'],
      }),
    ).toThrow(message);
  });

  it('refuses authorizeServer and authorizeServerByOrigin together', () => {
    expect(() =>
      createAgent({
        source: memorySource(client),
        authorizeServer: authorize.memberOf(TD),
        authorizeServerByOrigin: { 'https://orders': SERVER_ID },
      }),
    ).toThrow(/not both/);
  });
});
