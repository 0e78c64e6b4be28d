import { execFile } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { authorize, channels, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { createServer, peerOf, securityOf } from '../src/index.js';
import { close, get, handshakeError, keepAliveAgent, listen, within } from './helpers.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const BILLING = 'spiffe://example.org/ns/prod/sa/billing';
const HOUR = 3_600_000;

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
let root: TestCa;
let foreignRoot: TestCa;
let billing: Leaf;
let orders: Leaf;
let intruder: Leaf;
let foreigner: Leaf;
let expired: Leaf;
let source: MemorySource;
let server: https.Server;
let port: number;

beforeAll(async () => {
  root = await makeRoot();
  foreignRoot = await makeRoot({ trustDomain: 'evil.org' });
  billing = await makeLeaf(root, { uris: [BILLING], ipAddresses: ['127.0.0.1'] });
  orders = await makeLeaf(root, { uris: [ORDERS] });
  intruder = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/intruder'] });
  foreigner = await makeLeaf(foreignRoot, { uris: [ORDERS] });
  expired = await makeLeaf(root, {
    uris: [ORDERS],
    notBefore: new Date(Date.now() - 2 * HOUR),
    notAfter: new Date(Date.now() - HOUR),
  });
  source = memorySource(loadMaterial(materialOf(billing)));
  server = createServer({ source, authorize: authorize.id(ORDERS) }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ peer: peerOf(req)?.spiffeId?.toString(), security: securityOf(req) }));
  });
  port = await listen(server);
});

afterAll(async () => {
  await close(server);
  await source.close();
});

const as = (leaf: Leaf) => ({ cert: leaf.chainPem, key: leaf.keyPem, ca: root.rootPem });

describe('createServer (strict)', () => {
  it('serves an allowed client and shows its SPIFFE ID', async () => {
    const answer = await get(port, '/', as(orders));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ peer: ORDERS, security: 'mtls' });
  });

  it('answers 403 to a verified peer the authorizer denies, with the reason', async () => {
    const answer = await get(port, '/', as(intruder));
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'peer_forbidden',
      reason: 'spiffe://example.org/ns/prod/sa/intruder is not an allowed SPIFFE ID',
    });
  });

  it('refuses at the handshake: no client certificate, a foreign CA, an expired certificate', async () => {
    const failures: { reason: string }[] = [];
    const onFailure = (message: unknown) => {
      const m = message as { reason: string; error: Error & { code?: string } };
      failures.push(m);
    };
    diagnostics.subscribe(channels.handshakeFailure, onFailure);
    try {
      const noCert = await handshakeError(port, { ca: root.rootPem });
      const foreign = await handshakeError(port, {
        cert: foreigner.chainPem,
        key: foreigner.keyPem,
        ca: root.rootPem,
      });
      const old = await handshakeError(port, as(expired));
      for (const error of [noCert, foreign, old])
        expect(error.code).toMatch(/ERR_SSL|ECONNRESET|ECLOSED|EPIPE/);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      diagnostics.unsubscribe(channels.handshakeFailure, onFailure);
    }
    expect(failures.map((f) => f.reason)).toEqual(['no_certificate', 'unknown_ca', 'expired']);
  });

  it('keeps the peer on keep-alive requests and on resumed sessions', async () => {
    const agent = keepAliveAgent();
    try {
      const first = await get(port, '/', as(orders), agent);
      const second = await get(port, '/', as(orders), agent);
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(JSON.parse(second.body).peer).toBe(ORDERS);
    } finally {
      agent.destroy();
    }
    const full = await get(port, '/', as(orders));
    expect(full.resumed).toBe(false);
    expect(full.session).toBeDefined();
    const resumed = await get(port, '/', { ...as(orders), session: full.session });
    expect(resumed.resumed).toBe(true);
    expect(JSON.parse(resumed.body)).toEqual({ peer: ORDERS, security: 'mtls' });
  });

  it('rotates: new connections get the new certificate, open ones keep working, sessions keep resuming', async () => {
    const agent = keepAliveAgent();
    try {
      const before = await get(port, '/', as(orders), agent);
      const ticket = (await get(port, '/', as(orders))).session;
      const next = await makeLeaf(root, { uris: [BILLING], ipAddresses: ['127.0.0.1'] });
      expect(source.set(loadMaterial(materialOf(next)))).toBe(true);
      const fresh = await get(port, '/', as(orders));

      expect(fresh.serverSerial).toBe(next.cert.serialNumber.toUpperCase());
      expect(fresh.serverSerial).not.toBe(before.serverSerial);
      const pooled = await get(port, '/', as(orders), agent);
      expect(pooled.status).toBe(200);
      expect(pooled.localPort).toBe(before.localPort); // the same connection, opened before the rotation
      const resumed = await get(port, '/', { ...as(orders), session: ticket });
      expect(resumed.resumed).toBe(true);
      expect(JSON.parse(resumed.body).peer).toBe(ORDERS);
    } finally {
      agent.destroy();
    }
  });

  it('serves curl with a client certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshless-curl-'));
    try {
      await writeFile(join(dir, 'cert.pem'), orders.chainPem);
      await writeFile(join(dir, 'key.pem'), orders.keyPem);
      await writeFile(join(dir, 'ca.pem'), root.rootPem);
      const { stdout } = await promisify(execFile)('curl', [
        '--silent',
        '--show-error',
        '--max-time',
        '10',
        '--cacert',
        join(dir, 'ca.pem'),
        '--cert',
        join(dir, 'cert.pem'),
        '--key',
        join(dir, 'key.pem'),
        `https://127.0.0.1:${port}/`,
      ]);
      expect(JSON.parse(stdout)).toEqual({ peer: ORDERS, security: 'mtls' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options with ERR_MESHLESS_INVALID_OPTION', () => {
    const ok = { source, authorize: authorize.any() };
    const code = expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' });
    expect(() => createServer({ source } as never)).toThrow(/authorize must be an authorizer function/);
    expect(() => createServer({ authorize: authorize.any() } as never)).toThrow(
      /source must be a CertificateSource/,
    );
    expect(() => createServer({ ...ok, mode: 'lenient' as never })).toThrow(code);
    expect(() => createServer({ ...ok, rejectUnauthorized: true } as never)).toThrow(/not accepted/);
    expect(() => createServer({ ...ok, ticketKeys: Buffer.alloc(10) })).toThrow(/48-byte/);
  });
});

describe('createServer options', () => {
  it('closeDenied closes a denied peer at the handshake instead of answering 403', async () => {
    const strictSource = memorySource(loadMaterial(materialOf(billing)));
    const closing = createServer(
      { source: strictSource, authorize: authorize.id(ORDERS), closeDenied: true },
      (_req, res) => res.end('ok'),
    );
    const closingPort = await listen(closing);
    try {
      expect((await get(closingPort, '/', as(orders))).status).toBe(200);
      await expect(get(closingPort, '/', as(intruder))).rejects.toThrow(/socket hang up|ECONNRESET/);
    } finally {
      await close(closing);
      await strictSource.close();
    }
  });

  it('follows trust rotation: a second root is accepted, a removed root is refused and its idle connections closed', async () => {
    const newRoot = await makeRoot();
    const newOrders = await makeLeaf(newRoot, { uris: [ORDERS] });
    const newBilling = await makeLeaf(newRoot, { uris: [BILLING] });
    const trustSource = memorySource(loadMaterial(materialOf(billing)));
    const trusting = createServer({ source: trustSource, authorize: authorize.id(ORDERS) }, (_req, res) =>
      res.end('ok'),
    );
    const trustingPort = await listen(trusting);
    // Clients trust both roots for the server, so that only the server's trust in clients changes.
    const bothRoots = root.rootPem + newRoot.rootPem;
    const oldClient = { cert: orders.chainPem, key: orders.keyPem, ca: bothRoots };
    const newClient = { cert: newOrders.chainPem, key: newOrders.keyPem, ca: bothRoots };
    const idleAgent = keepAliveAgent();
    try {
      expect((await get(trustingPort, '/', oldClient)).status).toBe(200);
      await expect(handshakeError(trustingPort, newClient)).resolves.toBeInstanceOf(Error);

      // Stage 1: trust both roots.
      trustSource.set(loadMaterial({ ...materialOf(billing), ca: bothRoots }));
      expect((await get(trustingPort, '/', oldClient)).status).toBe(200);
      expect((await get(trustingPort, '/', newClient)).status).toBe(200);
      expect((await get(trustingPort, '/', oldClient, idleAgent)).status).toBe(200);
      const idleSocket = Object.values(idleAgent.freeSockets).flat()[0];
      expect(idleSocket).toBeDefined();
      const idleClosed = new Promise((resolve) => idleSocket?.once('close', resolve));

      // Stage 2: the server moves to a certificate of the new root and trusts only the new root.
      trustSource.set(loadMaterial({ ...materialOf(newBilling), ca: newRoot.rootPem }));
      await within(idleClosed, 2000, 'the idle connection of an untrusted peer to close');
      await expect(handshakeError(trustingPort, oldClient)).resolves.toBeInstanceOf(Error);
      expect((await get(trustingPort, '/', newClient)).status).toBe(200);
    } finally {
      idleAgent.destroy();
      await close(trusting);
      await trustSource.close();
    }
  });
});
