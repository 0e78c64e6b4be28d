import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import { authorize, channels, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { createServer } from '@meshless/server';
import express5 from 'express';
import express4 from 'express4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { close, get, listen } from '../../../test/support/https-client.js';
import { type AuthorizationEvent, mtls } from '../src/index.js';

const SERVER = 'spiffe://example.org/ns/prod/sa/api';
const WEB = 'spiffe://example.org/ns/prod/sa/web';
const BATCH = 'spiffe://example.org/ns/prod/sa/batch';
const ADMIN = 'spiffe://example.org/ns/ops/sa/admin';

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

/** An app with one policy per router, one per route, and an audited route, as a user would write it. */
function buildApp(express: typeof express5, audited: AuthorizationEvent[]) {
  const app = express();
  const whoami = (req: express5.Request, res: express5.Response) => {
    res.json({ peer: req.peer?.spiffeId?.toString() ?? null });
  };

  // Per router: the policy is mounted in front of the router.
  const orders = express.Router();
  orders.get('/', whoami);
  app.use('/orders', mtls({ authorize: authorize.id(WEB) }), orders);

  // Per router: the router mounts its own policy.
  const billing = express.Router();
  billing.use(mtls({ authorize: authorize.id(BATCH) }));
  billing.get('/', whoami);
  app.use('/billing', billing);

  // Per route, and stacked: /reports/* needs a member of the trust domain, /reports/admin also ops.
  const reports = express.Router();
  reports.use(mtls({ authorize: authorize.memberOf('example.org') }));
  reports.get('/', whoami);
  reports.get('/admin', mtls({ authorize: authorize.pattern('spiffe://example.org/ns/ops/**') }), whoami);
  app.use('/reports', reports);

  const broken = () => {
    throw new Error('authorizer bug');
  };
  app.get('/broken', mtls({ authorize: broken }), whoami);
  app.get(
    '/audited',
    mtls({ authorize: authorize.id(ADMIN), mode: 'audit', onDecision: (event) => audited.push(event) }),
    whoami,
  );
  // Quiet version of Express's default error handler.
  app.use((_error: unknown, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) => {
    res.status(500).end();
  });
  return app;
}

describe.each([
  ['Express 5', express5],
  ['Express 4', express4],
])('mtls() with %s over real mTLS', (_name, express) => {
  const audited: AuthorizationEvent[] = [];
  let server: https.Server;
  let port: number;

  beforeAll(async () => {
    // The server lets every verified peer in; the middleware holds the per-router and per-route policy.
    server = createServer({ source, authorize: authorize.any() }, buildApp(express, audited));
    port = await listen(server);
  });

  afterAll(async () => {
    await close(server);
  });

  it('lets an allowed peer through with req.peer set to its identity', async () => {
    const answer = await get(port, '/orders', as(WEB));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: WEB });
  });

  it('answers 403 with the reason and nothing of the certificate to a denied peer', async () => {
    const answer = await get(port, '/orders', as(BATCH));
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'peer_forbidden',
      reason: `${BATCH} is not an allowed SPIFFE ID`,
    });
  });

  it('applies a different policy on each router', async () => {
    expect((await get(port, '/billing', as(BATCH))).status).toBe(200);
    expect((await get(port, '/billing', as(WEB))).status).toBe(403);
    expect((await get(port, '/orders', as(WEB))).status).toBe(200);
  });

  it('stacks a per-route policy on the router policy', async () => {
    expect(JSON.parse((await get(port, '/reports', as(WEB))).body)).toEqual({ peer: WEB });
    const denied = await get(port, '/reports/admin', as(WEB));
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).reason).toBe(`${WEB} does not match spiffe://example.org/ns/ops/**`);
    expect(JSON.parse((await get(port, '/reports/admin', as(ADMIN))).body)).toEqual({ peer: ADMIN });
  });

  it('fails closed when the authorizer throws (500 from the error handler, never next())', async () => {
    const answer = await get(port, '/broken', as(WEB));
    expect(answer.status).toBe(500);
    expect(answer.body).toBe('');
  });

  it('audit mode lets a peer through and records the deny it would have answered', async () => {
    audited.length = 0;
    const answer = await get(port, '/audited?token=secret', as(WEB));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: WEB });
    expect(audited).toHaveLength(1);
    const [event] = audited as [AuthorizationEvent];
    expect(event).toMatchObject({
      decision: 'deny',
      enforced: false,
      reason: `${WEB} is not an allowed SPIFFE ID`,
      error: 'peer_forbidden',
      security: 'mtls',
      method: 'GET',
      path: '/audited',
      layer: 'express',
    });
    expect(event.peer?.spiffeId?.toString()).toBe(WEB);
  });

  it('publishes every decision on the meshless:authorization channel', async () => {
    const seen: AuthorizationEvent[] = [];
    const onMessage = (message: unknown) => {
      if ((message as { layer?: string }).layer === 'express') seen.push(message as AuthorizationEvent);
    };
    diagnostics.subscribe(channels.authorization, onMessage);
    try {
      await get(port, '/orders', as(WEB));
      await get(port, '/orders', as(BATCH));
    } finally {
      diagnostics.unsubscribe(channels.authorization, onMessage);
    }
    expect(seen.map((e) => [e.decision, e.enforced, e.path, e.peer?.spiffeId?.toString()])).toEqual([
      ['allow', true, '/orders', WEB],
      ['deny', true, '/orders', BATCH],
    ]);
  });
});

/** A plaintext GET, for a server that is not a meshless server. */
async function plainGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe.each([
  ['Express 5', express5],
  ['Express 4', express4],
])('mtls() with %s without a verified peer', (_name, express) => {
  it('answers 401 (deny by default), even with an authorizer that would accept anyone', async () => {
    const events: AuthorizationEvent[] = [];
    const app = express();
    const lax = () => ({ allowed: true, reason: 'anyone' });
    app.get('/', mtls({ authorize: lax, onDecision: (e) => events.push(e) }), (_req, res) => {
      res.send('should not be reached');
    });
    const server = http.createServer(app);
    const port = await listen(server);
    try {
      const answer = await plainGet(port, '/');
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toEqual({
        error: 'peer_unauthenticated',
        reason: 'no verified peer certificate',
      });
      expect(events).toMatchObject([
        { decision: 'deny', enforced: true, security: 'plaintext', error: 'peer_unauthenticated' },
      ]);
      expect(events[0]?.peer).toBeUndefined();
    } finally {
      await close(server);
    }
  });

  it('audit mode lets the request through with req.peer undefined and records a 401', async () => {
    const events: AuthorizationEvent[] = [];
    const app = express();
    app.get(
      '/',
      mtls({ authorize: authorize.any(), mode: 'audit', onDecision: (e) => events.push(e) }),
      (req, res) => {
        res.json({ peer: req.peer ?? null });
      },
    );
    const server = http.createServer(app);
    const port = await listen(server);
    try {
      const answer = await plainGet(port, '/');
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ peer: null });
      expect(events).toMatchObject([{ decision: 'deny', enforced: false, error: 'peer_unauthenticated' }]);
    } finally {
      await close(server);
    }
  });
});

describe('the test setup', () => {
  it('runs Express 4 and Express 5 for real', () => {
    const require = createRequire(import.meta.url);
    expect(require('express/package.json').version).toMatch(/^5\./);
    expect(require('express4/package.json').version).toMatch(/^4\./);
  });
});

describe('mtls() options', () => {
  it.each([
    ['no options', undefined, /^mtls: options must be an object; got undefined$/],
    ['no authorizer', {}, /^mtls: authorize must be an authorizer function/],
    [
      'an authorizer that is not a function',
      { authorize: 'spiffe://example.org/x' },
      /authorize must be an authorizer function \(e\.g\. authorize\.id\('spiffe:\/\/\.\.\.'\).*got the string "spiffe:\/\/example\.org\/x"/,
    ],
    [
      'a misspelled authorize',
      { authorise: authorize.any() },
      /^mtls: unknown option "authorise"; did you mean "authorize"\?$/,
    ],
    [
      'an unknown mode',
      { authorize: authorize.any(), mode: 'permissive' },
      /mode must be one of 'enforce', 'audit'; got the string "permissive"/,
    ],
    [
      'an onDecision that is not a function',
      { authorize: authorize.any(), onDecision: 'log' },
      /onDecision must be a function/,
    ],
  ])('throws ERR_MESHLESS_INVALID_OPTION for %s', (_case, options, message) => {
    expect(() => mtls(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
    );
    expect(() => mtls(options as never)).toThrow(message);
  });

  it('defaults to enforce mode', async () => {
    const events: AuthorizationEvent[] = [];
    const middleware = mtls({ authorize: authorize.any(), onDecision: (e) => events.push(e) });
    const req = Object.assign(new http.IncomingMessage(null as never), { method: 'GET', url: '/x' });
    const res = new http.ServerResponse(req);
    let nextCalled = false;
    middleware(req, res, () => {
      nextCalled = true;
    });
    expect(nextCalled).toBe(false);
    expect(res.statusCode).toBe(401);
    expect(events[0]?.enforced).toBe(true);
  });
});
