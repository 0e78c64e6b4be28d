import diagnostics from 'node:diagnostics_channel';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { authorize, channels, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import Fastify, { type FastifyInstance, type FastifyRequest, type RawServerBase } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { get } from '../../../test/support/https-client.js';
import meshlessDefault, {
  type AuthorizationEvent,
  fastifyServerOptions,
  MeshlessPeerError,
  meshless,
} from '../src/index.js';

const SERVER = 'spiffe://example.org/ns/prod/sa/api';
const WEB = 'spiffe://example.org/ns/prod/sa/web';
const BATCH = 'spiffe://example.org/ns/prod/sa/batch';
const ADMIN = 'spiffe://example.org/ns/ops/sa/admin';
const PROD = 'spiffe://example.org/ns/prod/**';

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
let root: TestCa;
let source: MemorySource;
const clients: Record<string, Leaf> = {};

beforeAll(async () => {
  root = await makeRoot();
  source = memorySource(loadMaterial(materialOf(await makeLeaf(root, { uris: [SERVER] }))));
  for (const id of [WEB, BATCH, ADMIN]) clients[id] = await makeLeaf(root, { uris: [id] });
});

afterAll(async () => {
  await source.close();
});

const as = (id: string) => {
  const leaf = clients[id] as Leaf;
  return { cert: leaf.chainPem, key: leaf.keyPem, ca: root.rootPem };
};

// Typed by the augmentation of FastifyRequest; structural so it fits apps of any server type.
const whoami = async (request: Pick<FastifyRequest, 'peer'>) => ({
  peer: request.peer?.spiffeId?.toString() ?? null,
});

/** Routes with each kind of policy, as a user would write them. */
async function addRoutes<Server extends RawServerBase>(
  app: FastifyInstance<Server>,
  events: AuthorizationEvent[],
) {
  await app.register(meshless, { authorize: authorize.pattern(PROD), onDecision: (e) => events.push(e) });
  app.get('/whoami', whoami);
  app.get('/admin', { config: { mtls: { authorize: authorize.id(ADMIN) } } }, whoami);
  app.get('/healthz', { config: { mtls: false } }, whoami);
  const broken = () => {
    throw new Error('authorizer bug');
  };
  app.get('/broken', { config: { mtls: { authorize: broken } } }, whoami);
  app.get('/audited', { config: { mtls: { authorize: authorize.id(ADMIN), mode: 'audit' } } }, whoami);
  // A scope that stacks a stricter policy on the plugin-wide one.
  await app.register(async (scope) => {
    await scope.register(meshless, { authorize: authorize.id(BATCH) });
    scope.get('/jobs', whoami);
  });
}

function portOf(app: FastifyInstance<https.Server>): number {
  return (app.server.address() as AddressInfo).port;
}

describe('the plugin over real mTLS (fastifyServerOptions)', () => {
  const events: AuthorizationEvent[] = [];
  let app: FastifyInstance<https.Server>;
  let port: number;
  let address: string;

  beforeAll(async () => {
    app = Fastify({ ...fastifyServerOptions({ source }) });
    await addRoutes(app, events);
    address = await app.listen({ port: 0, host: '127.0.0.1' });
    port = portOf(app);
  });

  afterAll(async () => {
    await app.close();
  });

  it('serves over TLS, and Fastify knows it', () => {
    expect(app.server).toBeInstanceOf(https.Server);
    expect(address).toBe(`https://127.0.0.1:${port}`);
  });

  it('lets a peer the plugin-wide authorizer allows through, with request.peer', async () => {
    const answer = await get(port, '/whoami', as(WEB));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: WEB });
  });

  it('answers 403 with the reason to a peer the plugin-wide authorizer denies', async () => {
    const answer = await get(port, '/whoami', as(ADMIN));
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'peer_forbidden',
      reason: `${ADMIN} does not match ${PROD}`,
    });
  });

  it('replaces the plugin-wide policy with a route config.mtls', async () => {
    // ADMIN is outside ns/prod (denied plugin-wide) but allowed by the route's own authorizer.
    expect(JSON.parse((await get(port, '/admin', as(ADMIN))).body)).toEqual({ peer: ADMIN });
    const denied = await get(port, '/admin', as(WEB));
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toEqual({
      error: 'peer_forbidden',
      reason: `${WEB} is not an allowed SPIFFE ID`,
    });
  });

  it('skips the policy on a route with config.mtls: false, still filling request.peer', async () => {
    const answer = await get(port, '/healthz', as(ADMIN));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: ADMIN });
  });

  it('stacks the policy of a plugin registered again in a child scope', async () => {
    expect((await get(port, '/jobs', as(BATCH))).status).toBe(200);
    expect((await get(port, '/jobs', as(WEB))).status).toBe(403); // allowed by the root, denied by the scope
    expect((await get(port, '/jobs', as(ADMIN))).status).toBe(403); // denied by the root
  });

  it('fails closed when the authorizer throws (500, the handler never runs)', async () => {
    const answer = await get(port, '/broken', as(WEB));
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain(WEB);
  });

  it('audit mode on a route lets the peer through and records the deny it would have answered', async () => {
    events.length = 0;
    const answer = await get(port, '/audited?token=secret', as(WEB));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: WEB });
    expect(events).toHaveLength(1);
    const [event] = events as [AuthorizationEvent];
    expect(event).toMatchObject({
      decision: 'deny',
      enforced: false,
      reason: `${WEB} is not an allowed SPIFFE ID`,
      error: 'peer_forbidden',
      security: 'mtls',
      method: 'GET',
      path: '/audited',
      layer: 'fastify',
    });
    expect(event.peer?.spiffeId?.toString()).toBe(WEB);
  });

  it('publishes every decision on the meshless:authorization channel', async () => {
    const seen: AuthorizationEvent[] = [];
    const onMessage = (message: unknown) => {
      if ((message as { layer?: string }).layer === 'fastify') seen.push(message as AuthorizationEvent);
    };
    diagnostics.subscribe(channels.authorization, onMessage);
    try {
      await get(port, '/whoami', as(WEB));
      await get(port, '/whoami', as(ADMIN));
    } finally {
      diagnostics.unsubscribe(channels.authorization, onMessage);
    }
    expect(seen.map((e) => [e.decision, e.enforced, e.path, e.peer?.spiffeId?.toString()])).toEqual([
      ['allow', true, '/whoami', WEB],
      ['deny', true, '/whoami', ADMIN],
    ]);
  });
});

describe('fastifyServerOptions', () => {
  it('gives Fastify a server that follows the source when it rotates', async () => {
    const first = loadMaterial(materialOf(await makeLeaf(root, { uris: [SERVER] })));
    const second = loadMaterial(materialOf(await makeLeaf(root, { uris: [SERVER] })));
    const rotating = memorySource(first);
    const app = Fastify({ ...fastifyServerOptions({ source: rotating }) });
    await app.register(meshless, { authorize: authorize.any() });
    app.get('/', whoami);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const before = await get(portOf(app), '/', as(WEB));
      expect(before.status).toBe(200);
      expect(before.serverSerial).toBe(first.leaf.serialNumber);
      expect(rotating.set(second)).toBe(true);
      const after = await get(portOf(app), '/', as(WEB));
      expect(after.status).toBe(200);
      expect(after.serverSerial).toBe(second.leaf.serialNumber);
    } finally {
      await app.close();
      await rotating.close();
    }
  });

  it('applies a server-level authorizer before Fastify sees the request', async () => {
    const events: AuthorizationEvent[] = [];
    const app = Fastify({ ...fastifyServerOptions({ source, authorize: authorize.id(WEB) }) });
    await app.register(meshless, { authorize: authorize.any(), onDecision: (e) => events.push(e) });
    app.get('/', whoami);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect((await get(portOf(app), '/', as(WEB))).status).toBe(200);
      const denied = await get(portOf(app), '/', as(BATCH));
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.body)).toEqual({
        error: 'peer_forbidden',
        reason: `${BATCH} is not an allowed SPIFFE ID`,
      });
      expect(events.map((e) => e.peer?.spiffeId?.toString())).toEqual([WEB]);
    } finally {
      await app.close();
    }
  });

  it('applies Fastify timeouts to the server it creates', async () => {
    const app = Fastify({
      ...fastifyServerOptions({ source }),
      keepAliveTimeout: 1234,
      requestTimeout: 5678,
    });
    await app.ready();
    try {
      expect(app.server.keepAliveTimeout).toBe(1234);
      expect(app.server.requestTimeout).toBe(5678);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['no options', undefined, /^fastifyServerOptions: options must be an object/],
    ['no source', {}, /^fastifyServerOptions: source must be a CertificateSource/],
    [
      'an authorizer that is not a function',
      () => ({ source, authorize: 'any' }),
      /authorize must be an authorizer function.*got the string "any"/,
    ],
    [
      'a misspelled server option',
      () => ({ source, closeDenyed: true }),
      /^fastifyServerOptions: unknown option "closeDenyed"; did you mean "closeDenied"\?$/,
    ],
    [
      'a TLS option weaker than the defaults',
      () => ({ source, minVersion: 'TLSv1' }),
      /minVersion must be 'TLSv1\.2' or 'TLSv1\.3'/,
    ],
  ])('throws ERR_MESHLESS_INVALID_OPTION for %s', (_case, input, message) => {
    // Built in the test: the source exists only once beforeAll has run.
    const options = typeof input === 'function' ? input() : input;
    expect(() => fastifyServerOptions(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
    );
    expect(() => fastifyServerOptions(options as never)).toThrow(message);
  });
});

describe('the plugin through inject() (no TLS socket, so no peer)', () => {
  it('answers 401 by default: a request without a verified peer never reaches a handler', async () => {
    const events: AuthorizationEvent[] = [];
    const app = Fastify();
    await addRoutes(app, events);
    for (const url of ['/whoami', '/admin', '/jobs', '/no-such-route']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual({
        error: 'peer_unauthenticated',
        reason: 'no verified peer certificate',
      });
    }
    expect(events[0]).toMatchObject({
      decision: 'deny',
      enforced: true,
      security: 'plaintext',
      path: '/whoami',
    });
    await app.close();
  });

  it('serves a route with config.mtls: false, with request.peer null', async () => {
    const app = Fastify();
    await addRoutes(app, []);
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ peer: null });
    await app.close();
  });

  it('audit mode plugin-wide lets the request through and records the 401 it would have answered', async () => {
    const events: AuthorizationEvent[] = [];
    const app = Fastify();
    await app.register(meshless, {
      authorize: authorize.any(),
      mode: 'audit',
      onDecision: (e) => events.push(e),
    });
    app.get('/', whoami);
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ peer: null });
    expect(events).toMatchObject([{ decision: 'deny', enforced: false, error: 'peer_unauthenticated' }]);
    await app.close();
  });

  it('a route can enforce while the plugin audits', async () => {
    const app = Fastify();
    await app.register(meshless, { authorize: authorize.any(), mode: 'audit' });
    app.get('/strict', { config: { mtls: { mode: 'enforce' } } }, whoami);
    expect((await app.inject({ method: 'GET', url: '/strict' })).statusCode).toBe(401);
    await app.close();
  });

  it('with useErrorHandler, hands Fastify a MeshlessPeerError with a stable code', async () => {
    const app = Fastify();
    const seen: unknown[] = [];
    await app.register(meshless, { authorize: authorize.any(), useErrorHandler: true });
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error);
      return reply.send(error);
    });
    app.get('/', whoami);
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      statusCode: 401,
      code: 'FST_MESHLESS_PEER_UNAUTHENTICATED',
      error: 'Unauthorized',
      message: 'no verified peer certificate',
    });
    expect(seen[0]).toBeInstanceOf(MeshlessPeerError);
    expect(seen[0]).toMatchObject({ statusCode: 401, reason: 'no verified peer certificate' });
    await app.close();
  });
});

describe('the plugin over real mTLS with useErrorHandler', () => {
  it('gives a denied peer FST_MESHLESS_PEER_FORBIDDEN with status 403', async () => {
    const app = Fastify({ ...fastifyServerOptions({ source }) });
    await app.register(meshless, { authorize: authorize.id(WEB), useErrorHandler: true });
    app.get('/', whoami);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const answer = await get(portOf(app), '/', as(BATCH));
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({
        code: 'FST_MESHLESS_PEER_FORBIDDEN',
        message: `${BATCH} is not an allowed SPIFFE ID`,
      });
    } finally {
      await app.close();
    }
  });
});

describe('plugin options and metadata', () => {
  it('is a fastify-plugin named @meshless/fastify for Fastify 5, also as the default export', () => {
    expect(meshlessDefault).toBe(meshless);
    const plugin = meshless as unknown as Record<symbol, unknown>;
    expect(plugin[Symbol.for('skip-override')]).toBe(true);
    expect(plugin[Symbol.for('fastify.display-name')]).toBe('@meshless/fastify');
    expect(plugin[Symbol.for('plugin-meta')]).toMatchObject({ name: '@meshless/fastify', fastify: '5.x' });
  });

  it.each([
    ['no authorizer', {}, /authorize must be an authorizer function/],
    [
      'a string as authorizer',
      { authorize: 'spiffe://example.org/x' },
      /authorize must be an authorizer function \(e\.g\. authorize\.id\('spiffe:\/\/\.\.\.'\).*got the string "spiffe:\/\/example\.org\/x"/,
    ],
    [
      'a misspelled option',
      { authorize: authorize.any(), useErrorHandlr: true },
      /unknown option "useErrorHandlr"; did you mean "useErrorHandler"\?/,
    ],
    [
      'an unknown mode',
      { authorize: authorize.any(), mode: 'permissive' },
      /mode must be one of 'enforce', 'audit'/,
    ],
    [
      'an onDecision that is not a function',
      { authorize: authorize.any(), onDecision: 1 },
      /onDecision must be a function/,
    ],
  ])('refuses to register with %s (ERR_MESHLESS_INVALID_OPTION)', async (_case, options, message) => {
    const app = Fastify();
    await expect(app.register(meshless, options as never).ready()).rejects.toThrow(message);
    await expect(
      Fastify()
        .register(meshless, options as never)
        .ready(),
    ).rejects.toMatchObject({ code: 'ERR_MESHLESS_INVALID_OPTION' });
  });

  it('accepts Fastify register options (prefix) beside its own', async () => {
    const app = Fastify();
    await app.register(meshless, { authorize: authorize.any(), prefix: '/api' } as never);
    await app.ready();
    await app.close();
  });

  it('a route whose config.mtls misspells authorize throws at registration, naming the typo', async () => {
    const app = Fastify();
    await app.register(meshless, { authorize: authorize.any() });
    const admin = authorize.id('spiffe://example.org/ns/ops/sa/admin');
    expect(() => app.get('/admin', { config: { mtls: { authorise: admin } as never } }, whoami)).toThrow(
      expect.objectContaining({
        code: 'ERR_MESHLESS_INVALID_OPTION',
        message: 'route GET /admin config.mtls: unknown option "authorise"; did you mean "authorize"?',
      }),
    );
    await app.close();
  });

  it.each([
    ['a string', 'off'],
    ['true', true],
    ['an authorizer that is not a function', { authorize: 'spiffe://example.org/x' }],
    ['an unknown mode', { mode: 'strict' }],
  ])('refuses a route whose config.mtls is %s (ERR_MESHLESS_INVALID_OPTION)', async (_case, mtls) => {
    const app = Fastify();
    await app.register(meshless, { authorize: authorize.any() });
    expect(() => app.get('/', { config: { mtls: mtls as never } }, whoami)).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
    );
    await app.close();
  });
});
