import http2 from 'node:http2';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { createSecureServer, peerOf, securityOf } from '../src/index.js';
import { close, get, handshakeError, listen } from './helpers.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

let root: TestCa;
let orders: Leaf;
let intruder: Leaf;
let source: MemorySource;
let server: http2.Http2SecureServer;
let port: number;

beforeAll(async () => {
  root = await makeRoot();
  orders = await makeLeaf(root, { uris: [ORDERS] });
  intruder = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/intruder'] });
  source = memorySource(
    loadMaterial(materialOf(await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] }))),
  );
  server = createSecureServer({ source, authorize: authorize.id(ORDERS) }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        peer: peerOf(req)?.spiffeId?.toString(),
        security: securityOf(req),
        version: req.httpVersion,
      }),
    );
  });
  port = await listen(server);
});

afterAll(async () => {
  await close(server);
  await source.close();
});

async function h2Requests(leaf: Leaf, count: number): Promise<{ status: number; body: string }[]> {
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    cert: leaf.chainPem,
    key: leaf.keyPem,
    ca: root.rootPem,
    checkServerIdentity: () => undefined,
  });
  try {
    const one = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
        });
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          body += chunk;
        });
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end();
      });
    return await Promise.all(Array.from({ length: count }, one));
  } finally {
    session.close();
  }
}

describe('createSecureServer (HTTP/2)', () => {
  it('serves an allowed client on every stream of a session, with its identity', async () => {
    const answers = await h2Requests(orders, 3);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ peer: ORDERS, security: 'mtls', version: '2.0' });
    }
  });

  it('answers 403 to a denied peer on each stream', async () => {
    const answers = await h2Requests(intruder, 2);
    for (const answer of answers) {
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).error).toBe('peer_forbidden');
    }
  });

  it('serves HTTP/1.1 clients on the same port', async () => {
    const answer = await get(port, '/', { cert: orders.chainPem, key: orders.keyPem, ca: root.rootPem });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: ORDERS, security: 'mtls', version: '1.1' });
  });

  it('refuses a client without a certificate at the handshake', async () => {
    await expect(handshakeError(port, { ca: root.rootPem })).resolves.toBeInstanceOf(Error);
  });
});
