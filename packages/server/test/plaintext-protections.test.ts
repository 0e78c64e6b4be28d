// Issue 16, part 2: the plaintext half of a permissive server gets the HTTP protections of its TLS
// half (headersTimeout, requestTimeout, keepAliveTimeout, maxHeaderSize, idle timeout), whether given
// to createServer or set on the server afterwards, for HTTP/1.1 and for h2c.
import http2 from 'node:http2';
import type https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { createSecureServer, createServer } from '../src/index.js';
import { close, listen, within } from './helpers.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

let root: TestCa;
let orders: Leaf;
let source: MemorySource;

beforeAll(async () => {
  root = await makeRoot();
  orders = await makeLeaf(root, { uris: [ORDERS] });
  source = memorySource(
    loadMaterial(materialOf(await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] }))),
  );
});
afterAll(async () => {
  await source.close();
});

type Connect = (port: number) => net.Socket;
const plaintext: Connect = (port) => net.connect(port, '127.0.0.1');
const mtls: Connect = (port) =>
  tls.connect({
    host: '127.0.0.1',
    port,
    cert: orders.chainPem,
    key: orders.keyPem,
    ca: root.rootPem,
    checkServerIdentity: () => undefined,
  });

interface Outcome {
  answer: string;
  /** Milliseconds from the first byte sent to the close. */
  closedAfterMs: number;
}

/**
 * Sends the start of a request, then one more header line every `dripMs`, never ending the headers
 * (a slowloris), and resolves when the server closes the connection.
 */
function slowloris(socket: net.Socket, dripMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let answer = '';
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const begin = () => {
      started = performance.now();
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      timer = setInterval(() => socket.write(`X-Drip-${Date.now()}: 1\r\n`), dripMs);
    };
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', begin);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      if (!started) reject(new Error('closed before the request started'));
      else resolve({ answer, closedAfterMs: performance.now() - started });
    });
  });
}

/** Sends `request` and resolves with everything the server answers until it closes the connection. */
function exchange(socket: net.Socket, request: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let answer = '';
    let started = 0;
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      started = performance.now();
      socket.write(request);
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answer, closedAfterMs: performance.now() - started }));
  });
}

const ok = (_req: unknown, res: { end(body: string): void }) => res.end('ok');

describe('permissive HTTP/1.1: the protections given to createServer apply to both halves', () => {
  let server: https.Server;
  let port: number;
  beforeAll(async () => {
    server = createServer(
      {
        source,
        authorize: authorize.any(),
        mode: 'permissive',
        headersTimeout: 400,
        requestTimeout: 600,
        keepAliveTimeout: 300,
        connectionsCheckingInterval: 50,
        maxHeaderSize: 2048,
      },
      ok,
    );
    port = await listen(server);
  });
  afterAll(async () => {
    await close(server);
  });

  for (const [name, connect] of [
    ['plaintext', plaintext],
    ['mTLS', mtls],
  ] as const) {
    it(`closes a ${name} slowloris with 408 within headersTimeout`, async () => {
      const outcome = await within(slowloris(connect(port), 100), 5000, `the ${name} slowloris to be closed`);
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
      // Checked every 50 ms: closed once 400 ms have passed, well before the 5 s bound above.
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(350);
      expect(outcome.closedAfterMs).toBeLessThan(4000);
    });

    it(`answers 431 to a ${name} request whose headers exceed maxHeaderSize`, async () => {
      const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`;
      const outcome = await within(exchange(connect(port), request), 5000, `the ${name} answer`);
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 431 /);
    });

    it(`closes an idle ${name} keep-alive connection after keepAliveTimeout`, async () => {
      const outcome = await within(
        exchange(connect(port), 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
        5000,
        `the idle ${name} connection to be closed`,
      );
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok$/);
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(250);
      expect(outcome.closedAfterMs).toBeLessThan(4000);
    });
  }
});

describe('permissive HTTP/1.1: settings changed on the server after creation', () => {
  it('applies to plaintext connections made afterwards, like on the TLS half', async () => {
    const server = createServer(
      { source, authorize: authorize.any(), mode: 'permissive', connectionsCheckingInterval: 50 },
      ok,
    );
    // As Fastify's serverFactory and many applications do.
    server.headersTimeout = 300;
    server.requestTimeout = 500;
    const port = await listen(server);
    try {
      const outcome = await within(slowloris(plaintext(port), 100), 5000, 'the slowloris to be closed');
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(outcome.closedAfterMs).toBeLessThan(4000);
    } finally {
      await close(server);
    }
  });

  it('lets a clientError listener of the server answer plaintext client errors', async () => {
    const server = createServer(
      { source, authorize: authorize.any(), mode: 'permissive', maxHeaderSize: 1024 },
      ok,
    );
    const seen: string[] = [];
    server.on('clientError', (error: Error & { code?: string }, socket: net.Socket) => {
      seen.push(String(error.code));
      socket.end('HTTP/1.1 431 From The Application\r\nConnection: close\r\n\r\n');
    });
    const port = await listen(server);
    try {
      const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n`;
      const outcome = await within(exchange(plaintext(port), request), 5000, 'the answer');
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 431 From The Application/);
      expect(seen).toEqual(['HPE_HEADER_OVERFLOW']);
    } finally {
      await close(server);
    }
  });

  it('closes idle plaintext keep-alive connections on server.close(), as it does TLS ones', async () => {
    const server = createServer({ source, authorize: authorize.any(), mode: 'permissive' }, ok);
    const port = await listen(server);
    const socket = plaintext(port);
    const outcome = exchange(socket, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await within(
      new Promise((resolve) => socket.once('data', resolve)),
      5000,
      'the answer on the keep-alive connection',
    );
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await within(closed, 3000, 'server.close() to finish with an idle plaintext connection open');
    expect((await outcome).answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('permissive HTTP/2: h2c gets the server timeout of the TLS half', () => {
  it('closes an idle h2c session after the server timeout', async () => {
    const server = createSecureServer({ source, authorize: authorize.any(), mode: 'permissive' }, ok);
    server.setTimeout(300);
    const port = await listen(server);
    try {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => {});
      const answered = new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        stream.on('error', reject);
        stream.resume();
        stream.on('end', () => resolve());
        stream.end();
      });
      await within(answered, 5000, 'the h2c answer');
      const started = performance.now();
      await within(
        new Promise((resolve) => session.once('close', resolve)),
        5000,
        'the idle h2c session to be closed',
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    } finally {
      await close(server);
    }
  });
});
