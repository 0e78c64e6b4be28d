// Bearer JWT-SVIDs in the Fastify plugin: opt-in, judged alone when present, visible on
// request.peer and in the decision events. Through inject() (as behind a TLS-terminating load
// balancer) and over real mTLS on 127.0.0.1 for the "no fallback to the certificate" case.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { jwtBundleSet, jwtSvidBearer, parseJwtBundle } from '@meshless/spiffe';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { authority, bundleJson, type TestAuthority, token } from '../../spiffe/test/support/jwt.js';
import { type AuthorizationEvent, fastifyServerOptions, meshless } from '../src/index.js';

const AUDIENCE = 'spiffe://example.org/orders';
const WEB = 'spiffe://example.org/ns/prod/sa/web';
let root: TestCa;
let key: TestAuthority;
let source: MemorySource;
const events: AuthorizationEvent[] = [];

// Typed loosely: the same app is built with fastify's defaults (inject) and with meshless's server.
const makeFastify = Fastify as unknown as (options: object) => FastifyInstance;

async function app(options: object = {}): Promise<FastifyInstance> {
  const bundles = jwtBundleSet([parseJwtBundle('example.org', bundleJson([key]))]);
  const instance = makeFastify(options);
  await instance.register(meshless, {
    authorize: authorize.pattern('spiffe://example.org/ns/prod/sa/*'),
    bearer: jwtSvidBearer({ audience: AUDIENCE, bundles }),
    onDecision: (event) => events.push(event),
  });
  instance.get('/', async (request) => {
    const peer = request.peer as (typeof request.peer & { credential?: string }) | null;
    return { peer: peer?.spiffeId?.toString() ?? null, credential: peer?.credential ?? 'x509-svid' };
  });
  return instance;
}

beforeAll(async () => {
  root = await makeRoot();
  key = await authority('k1');
  const own = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/orders'] });
  source = memorySource(loadMaterial({ cert: own.chainPem, key: own.keyPem, ca: root.rootPem }));
});

afterAll(async () => {
  await source.close();
});

describe('meshless plugin with bearer JWT-SVIDs', () => {
  it('admits a valid bearer JWT-SVID, with credential jwt-svid on request.peer and the event', async () => {
    const instance = await app();
    const jws = await token(key, { sub: WEB, aud: AUDIENCE });
    const res = await instance.inject({ url: '/', headers: { authorization: `Bearer ${jws}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ peer: WEB, credential: 'jwt-svid' });
    expect(events.at(-1)).toMatchObject({ decision: 'allow', credential: 'jwt-svid', layer: 'fastify' });
    await instance.close();
  });

  it('answers 401 for a refused token or none, 403 for a denied token caller', async () => {
    const instance = await app();
    const expired = await token(key, { sub: WEB, aud: AUDIENCE, expIn: -600 });
    const res = await instance.inject({ url: '/', headers: { authorization: `Bearer ${expired}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'peer_unauthenticated', reason: 'bearer token refused (expired)' });
    expect((await instance.inject({ url: '/' })).statusCode).toBe(401);
    const admin = await token(key, { sub: 'spiffe://example.org/ns/ops/sa/admin', aud: AUDIENCE });
    const denied = await instance.inject({ url: '/', headers: { authorization: `Bearer ${admin}` } });
    expect(denied.statusCode).toBe(403);
    await instance.close();
  });

  it('judges an mTLS caller by its certificate without a token, and never falls back to it for a bad one', async () => {
    const instance = await app(fastifyServerOptions({ source }));
    await instance.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (instance.server.address() as AddressInfo).port;
      const web = await makeLeaf(root, { uris: [WEB] });
      const call = (headers: Record<string, string>) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = https.request(
            {
              host: '127.0.0.1',
              port,
              path: '/',
              agent: false,
              headers,
              cert: web.chainPem,
              key: web.keyPem,
              ca: root.rootPem,
              checkServerIdentity: () => undefined,
              timeout: 5000,
            },
            (res) => {
              let body = '';
              res.on('data', (chunk) => {
                body += chunk;
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on('error', reject);
          req.end();
        });
      const byCertificate = await call({});
      expect(byCertificate.status).toBe(200);
      expect(JSON.parse(byCertificate.body)).toEqual({ peer: WEB, credential: 'x509-svid' });
      const stranger = await token(await authority('stranger'), { sub: WEB, aud: AUDIENCE });
      expect((await call({ authorization: `Bearer ${stranger}` })).status).toBe(401);
    } finally {
      await instance.close();
    }
  });
});
