// Issue 16, part 2: a permissive Fastify server's plaintext half gets Fastify's requestTimeout and
// the node:https options given to fastifyServerOptions, and Fastify's clientError handler answers.
import type https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf } from '../../../test/support/certs.js';
import { within } from '../../../test/support/https-client.js';
import { fastifyServerOptions } from '../src/index.js';

let source: MemorySource;
let app: FastifyInstance<https.Server>;
let port: number;

beforeAll(async () => {
  const root = await makeRoot();
  source = memorySource(
    loadMaterial(materialOf(await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/api'] }))),
  );
  app = Fastify({
    ...fastifyServerOptions({
      source,
      authorize: authorize.any(),
      mode: 'permissive',
      maxHeaderSize: 2048,
      connectionsCheckingInterval: 50,
    }),
    requestTimeout: 400,
  });
  app.get('/', async () => 'ok');
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
  await source.close();
});

/** Writes `head`, then (when `dripMs` is set) one header line every `dripMs`; resolves at close. */
function plaintext(head: string, dripMs?: number): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.once('connect', () => {
      started = performance.now();
      socket.write(head);
      if (dripMs) timer = setInterval(() => socket.write(`X-Drip-${Date.now()}: 1\r\n`), dripMs);
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: performance.now() - started });
    });
  });
}

describe('fastifyServerOptions in permissive mode: the plaintext half', () => {
  it("closes a plaintext slowloris after Fastify's requestTimeout, with Fastify's 408", async () => {
    const outcome = await within(
      plaintext('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', 100),
      8000,
      'the slowloris to be closed',
    );
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(outcome.answer).toContain('"message":"Client Timeout"');
    expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(350);
    expect(outcome.closedAfterMs).toBeLessThan(4000);
  });

  it("answers a plaintext request over maxHeaderSize with Fastify's 431", async () => {
    const outcome = await within(
      plaintext(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`),
      8000,
      'the answer',
    );
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(outcome.answer).toContain('Exceeded maximum allowed HTTP header size');
  });

  it('still serves an ordinary plaintext request', async () => {
    const outcome = await within(
      plaintext('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
      8000,
      'the answer',
    );
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok$/);
  });
});
