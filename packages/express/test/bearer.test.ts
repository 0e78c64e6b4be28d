// Bearer JWT-SVIDs in the Express middleware: opt-in, judged alone when present (never a silent
// fallback to the certificate or the other way round), visible on req.peer, in the decision events
// and in the metrics. Real sockets: plaintext HTTP as a TLS-terminating load balancer would send it,
// and mTLS, on one permissive meshless server on 127.0.0.1.
import http from 'node:http';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { registerPrometheusMetrics } from '@meshless/metrics';
import { createServer } from '@meshless/server';
import { jwtBundleSet, jwtSvidBearer, parseJwtBundle } from '@meshless/spiffe';
import express from 'express';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { close, get, listen } from '../../../test/support/https-client.js';
import { authority, bundleJson, type TestAuthority, token } from '../../spiffe/test/support/jwt.js';
import { type AuthorizationEvent, mtls } from '../src/index.js';

const AUDIENCE = 'spiffe://example.org/orders';
const WEB = 'spiffe://example.org/ns/prod/sa/web';
let root: TestCa;
let key: TestAuthority;
let source: MemorySource;
let server: ReturnType<typeof createServer>;
let port: number;
let registry: Registry;
let metrics: { close(): void };
const events: AuthorizationEvent[] = [];

beforeAll(async () => {
  root = await makeRoot();
  key = await authority('k1');
  const own = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/orders'] });
  source = memorySource(loadMaterial({ cert: own.chainPem, key: own.keyPem, ca: root.rootPem }));
  const bundles = jwtBundleSet([parseJwtBundle('example.org', bundleJson([key]))]);
  const app = express();
  app.use(
    mtls({
      authorize: authorize.pattern('spiffe://example.org/ns/prod/sa/*'),
      bearer: jwtSvidBearer({ audience: AUDIENCE, bundles }),
      onDecision: (event) => events.push(event),
    }),
  );
  app.get('/', (req, res) => {
    const peer = req.peer as (typeof req.peer & { credential?: string }) | undefined;
    res.json({ peer: peer?.spiffeId?.toString(), credential: peer?.credential ?? 'x509-svid' });
  });
  registry = new Registry();
  metrics = registerPrometheusMetrics(registry);
  server = createServer({ source, authorize: authorize.any(), mode: 'permissive' }, app);
  port = await listen(server);
});

afterAll(async () => {
  metrics?.close();
  await close(server);
  await source.close();
});

/** A plaintext request, as from a TLS-terminating load balancer. */
function plain(headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

const bearer = async (sub = WEB, aud = AUDIENCE) => ({
  authorization: `Bearer ${await token(key, { sub, aud })}`,
});

describe('mtls({ bearer }) with JWT-SVIDs', () => {
  it('admits a caller by a valid bearer JWT-SVID, with credential jwt-svid on req.peer and the event', async () => {
    const answer = await plain(await bearer());
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: WEB, credential: 'jwt-svid' });
    expect(events.at(-1)).toMatchObject({ decision: 'allow', credential: 'jwt-svid', security: 'plaintext' });
  });

  it('refuses a token for another audience with 401, and one for a denied peer with 403', async () => {
    const wrongAudience = await plain(await bearer(WEB, 'spiffe://example.org/billing'));
    expect(wrongAudience.status).toBe(401);
    expect(JSON.parse(wrongAudience.body)).toEqual({
      error: 'peer_unauthenticated',
      reason: 'bearer token refused (aud)',
    });
    const denied = await plain(await bearer('spiffe://example.org/ns/ops/sa/admin'));
    expect(denied.status).toBe(403);
    expect(events.at(-1)).toMatchObject({
      decision: 'deny',
      credential: 'jwt-svid',
      error: 'peer_forbidden',
    });
  });

  it('refuses a plaintext request without a token (no silent acceptance)', async () => {
    expect((await plain()).status).toBe(401);
    expect((await plain({ authorization: 'Bearer ' })).status).toBe(401);
  });

  it('admits an mTLS caller without a token by its certificate, and never falls back to it for a bad token', async () => {
    const web = await makeLeaf(root, { uris: [WEB] });
    const client = { cert: web.chainPem, key: web.keyPem, ca: root.rootPem };
    const byCertificate = await get(port, '/', client);
    expect(byCertificate.status).toBe(200);
    expect(JSON.parse(byCertificate.body)).toEqual({ peer: WEB, credential: 'x509-svid' });
    expect(events.at(-1)).toMatchObject({ decision: 'allow', credential: 'x509-svid', security: 'mtls' });
    // A certificate the policy allows does not rescue a refused token.
    const stranger = await authority('not-in-bundle');
    const badToken = await token(stranger, { sub: WEB, aud: AUDIENCE });
    const refused = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: '/', headers: { authorization: `Bearer ${badToken}` } },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });
    expect(refused).toBe(401);
    const overTls = await getWithHeaders(port, client, { authorization: `Bearer ${badToken}` });
    expect(overTls).toBe(401);
  });

  it('counts which credential was judged in meshless_request_credentials_total', async () => {
    await plain(await bearer());
    const text = await registry.metrics();
    expect(text).toMatch(
      /meshless_request_credentials_total\{credential="jwt-svid",decision="allow",layer="express"\} [1-9]/,
    );
    expect(text).toMatch(
      /meshless_request_credentials_total\{credential="x509-svid",decision="allow",layer="express"\} [1-9]/,
    );
  });
});

async function getWithHeaders(
  target: number,
  client: { cert: string; key: string; ca: string },
  headers: Record<string, string>,
): Promise<number> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: target,
        path: '/',
        agent: false,
        headers,
        ...client,
        checkServerIdentity: () => undefined,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
