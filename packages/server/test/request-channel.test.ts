// The meshless:request channel: one message per request, whatever its security, HTTP/1.1 or HTTP/2
// (a stream and its compatibility request count once), with the server-level decision.
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import http2 from 'node:http2';
import type https from 'node:https';
import { authorize, channels, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { createSecureServer, createServer } from '../src/index.js';
import { close, get, listen } from './helpers.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
interface RequestMessage {
  security: string;
  decision: string;
  peer?: { spiffeId?: unknown };
  remoteAddress?: string;
  userAgent?: string;
  method?: string;
}

let root: TestCa;
let orders: Leaf;
let intruder: Leaf;
let source: MemorySource;
const seen: RequestMessage[] = [];
const record = (message: unknown) => seen.push(message as RequestMessage);

beforeAll(async () => {
  root = await makeRoot();
  orders = await makeLeaf(root, { uris: [ORDERS] });
  intruder = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/intruder'] });
  source = memorySource(loadMaterial(materialOf(await makeLeaf(root))));
  diagnostics.subscribe(channels.request, record);
});
afterAll(async () => {
  diagnostics.unsubscribe(channels.request, record);
  await source.close();
});
afterEach(() => {
  seen.length = 0;
});

const ok = (_req: unknown, res: http.ServerResponse | http2.Http2ServerResponse) => res.end('ok');

function plainGet(port: number, userAgent: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false, headers: { 'user-agent': userAgent } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('meshless:request (HTTP/1.1, permissive)', () => {
  let server: https.Server;
  let port: number;
  beforeAll(async () => {
    server = createServer({ source, authorize: authorize.id(ORDERS), mode: 'permissive' }, ok);
    port = await listen(server);
  });
  afterAll(async () => {
    await close(server);
  });

  it('publishes every request with its security, decision, peer and caller', async () => {
    await get(port, '/', { cert: orders.chainPem, key: orders.keyPem, ca: root.rootPem });
    await get(port, '/', { cert: intruder.chainPem, key: intruder.keyPem, ca: root.rootPem });
    await get(port, '/', { ca: root.rootPem });
    expect(await plainGet(port, 'legacy/1.0')).toBe(200);

    expect(seen.map((m) => [m.security, m.decision, String(m.peer?.spiffeId ?? '')])).toEqual([
      ['mtls', 'allow', ORDERS],
      ['mtls', 'deny', 'spiffe://example.org/ns/prod/sa/intruder'],
      ['tls', 'none', ''],
      ['plaintext', 'none', ''],
    ]);
    expect(seen[3]).toMatchObject({ method: 'GET', userAgent: 'legacy/1.0' });
    expect(seen.every((m) => m.remoteAddress?.endsWith('127.0.0.1'))).toBe(true);
  });
});

describe('meshless:request (HTTP/2)', () => {
  let server: http2.Http2SecureServer;
  let port: number;
  beforeAll(async () => {
    server = createSecureServer({ source, authorize: authorize.id(ORDERS), mode: 'permissive' }, ok);
    port = await listen(server);
  });
  afterAll(async () => {
    await close(server);
  });

  async function h2(url: string, options: http2.SecureClientSessionOptions = {}): Promise<void> {
    const session = http2.connect(url, options);
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':path': '/', 'user-agent': 'h2-client' });
        stream.resume();
        stream.on('end', resolve);
        stream.on('error', reject);
        session.on('error', reject);
        stream.end();
      });
    } finally {
      session.close();
    }
  }

  it('counts a stream and its compatibility request once, over mTLS and h2c', async () => {
    await h2(`https://127.0.0.1:${port}`, {
      cert: orders.chainPem,
      key: orders.keyPem,
      ca: root.rootPem,
      checkServerIdentity: () => undefined,
    });
    await h2(`http://127.0.0.1:${port}`);
    expect(seen.map((m) => [m.security, m.decision, m.method, m.userAgent])).toEqual([
      ['mtls', 'allow', 'GET', 'h2-client'],
      ['plaintext', 'none', 'GET', 'h2-client'],
    ]);
  });
});
