import http from 'node:http';
import http2 from 'node:http2';
import type https from 'node:https';
import net from 'node:net';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { createSecureServer, createServer, peerOf, securityOf } from '../src/index.js';
import { close, get, handshakeError, listen, within } from './helpers.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

let root: TestCa;
let orders: Leaf;
let intruder: Leaf;
let foreigner: Leaf;
let source: MemorySource;

beforeAll(async () => {
  root = await makeRoot();
  orders = await makeLeaf(root, { uris: [ORDERS] });
  intruder = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/intruder'] });
  foreigner = await makeLeaf(await makeRoot({ trustDomain: 'evil.org' }), { uris: [ORDERS] });
  source = memorySource(
    loadMaterial(materialOf(await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] }))),
  );
});
afterAll(async () => {
  await source.close();
});

const echo = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => {
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify({
      peer: peerOf(req)?.spiffeId?.toString() ?? null,
      security: securityOf(req),
      version: req.httpVersion,
    }),
  );
};

function plainGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function rawExchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (c) => {
      answer += c;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('permissive mode (HTTP/1.1)', () => {
  let server: https.Server;
  let port: number;
  beforeAll(async () => {
    server = createServer(
      { source, authorize: authorize.id(ORDERS), mode: 'permissive', handshakeTimeout: 500 },
      echo,
    );
    port = await listen(server);
  });
  afterAll(async () => {
    await close(server);
  });

  it('labels a client with a verified certificate mtls', async () => {
    const answer = await get(port, '/', { cert: orders.chainPem, key: orders.keyPem, ca: root.rootPem });
    expect(JSON.parse(answer.body)).toEqual({ peer: ORDERS, security: 'mtls', version: '1.1' });
  });

  it('serves a TLS client without a certificate as tls, with no peer', async () => {
    const answer = await get(port, '/', { ca: root.rootPem });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: null, security: 'tls', version: '1.1' });
  });

  it('serves plaintext HTTP on the same port as plaintext', async () => {
    const answer = await plainGet(port);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: null, security: 'plaintext', version: '1.1' });
  });

  it('still refuses a certificate that does not verify (no downgrade to tls)', async () => {
    const error = await handshakeError(port, {
      cert: foreigner.chainPem,
      key: foreigner.keyPem,
      ca: root.rootPem,
    });
    expect(error).toBeInstanceOf(Error);
  });

  it('still answers 403 to a verified peer the authorizer denies', async () => {
    const answer = await get(port, '/', { cert: intruder.chainPem, key: intruder.keyPem, ca: root.rootPem });
    expect(answer.status).toBe(403);
  });

  it('answers garbage with 400 and closes, without disturbing other connections', async () => {
    const answer = await rawExchange(port, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]));
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await plainGet(port)).status).toBe(200);
    expect(
      (await get(port, '/', { cert: orders.chainPem, key: orders.keyPem, ca: root.rootPem })).status,
    ).toBe(200);
  });

  it('closes a silent connection after the timeout', async () => {
    const socket = net.connect(port, '127.0.0.1');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    await within(closed, 3000, 'the silent connection to be closed');
  });
});

describe('permissive mode (HTTP/2)', () => {
  let server: http2.Http2SecureServer;
  let port: number;
  beforeAll(async () => {
    server = createSecureServer({ source, authorize: authorize.id(ORDERS), mode: 'permissive' }, echo);
    port = await listen(server);
  });
  afterAll(async () => {
    await close(server);
  });

  async function h2(url: string, options: http2.SecureClientSessionOptions = {}): Promise<unknown> {
    const session = http2.connect(url, options);
    try {
      return await new Promise((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        let body = '';
        stream.setEncoding('utf8');
        stream.on('data', (c) => {
          body += c;
        });
        stream.on('end', () => resolve(JSON.parse(body)));
        stream.on('error', reject);
        session.on('error', reject);
        stream.end();
      });
    } finally {
      session.close();
    }
  }

  it('serves HTTP/2 over mTLS, h2c prior knowledge and plaintext HTTP/1.1 on one port', async () => {
    const tlsOptions = {
      cert: orders.chainPem,
      key: orders.keyPem,
      ca: root.rootPem,
      checkServerIdentity: () => undefined,
    };
    expect(await h2(`https://127.0.0.1:${port}`, tlsOptions)).toEqual({
      peer: ORDERS,
      security: 'mtls',
      version: '2.0',
    });
    expect(await h2(`http://127.0.0.1:${port}`)).toEqual({
      peer: null,
      security: 'plaintext',
      version: '2.0',
    });
    expect(JSON.parse((await plainGet(port)).body)).toEqual({
      peer: null,
      security: 'plaintext',
      version: '1.1',
    });
  });
});
