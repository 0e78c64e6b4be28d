import diagnostics from 'node:diagnostics_channel';
import https from 'node:https';
import {
  authorize,
  channels,
  loadMaterial,
  type MemorySource,
  MeshlessError,
  memorySource,
} from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIntermediate, makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { createServer, peerOf } from '../src/index.js';
import { close, get, handshakeError, keepAliveAgent, listen } from './helpers.js';

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

let aRoot: TestCa;
let bRoot: TestCa;
let cRoot: TestCa;
let web: Leaf;
let source: MemorySource;
let server: https.Server;
let port: number;

const federated = (extra: Record<string, string> = {}) =>
  loadMaterial({
    cert: web.chainPem,
    key: web.keyPem,
    ca: aRoot.rootPem,
    federatedBundles: { 'b.org': bRoot.rootPem, ...extra },
  });
const as = (leaf: Leaf) => ({ cert: leaf.chainPem, key: leaf.keyPem, ca: aRoot.rootPem });

beforeAll(async () => {
  aRoot = await makeRoot({ trustDomain: 'a.org' });
  bRoot = await makeRoot({ trustDomain: 'b.org' });
  cRoot = await makeRoot({ trustDomain: 'c.org' });
  web = await makeLeaf(aRoot, { uris: ['spiffe://a.org/web'] });
  source = memorySource(federated());
  server = createServer({ source, authorize: authorize.any() }, (req, res) => {
    res.end(String(peerOf(req)?.spiffeId));
  });
  port = await listen(server);
});

afterAll(async () => {
  await close(server);
  await source.close();
});

describe('a server with federated bundles', () => {
  it('serves peers of its own and of the federated trust domain', async () => {
    const own = await makeLeaf(aRoot, { uris: ['spiffe://a.org/orders'] });
    const partner = await makeLeaf(bRoot, { uris: ['spiffe://b.org/billing'] });
    expect(await get(port, '/', as(own))).toMatchObject({ status: 200, body: 'spiffe://a.org/orders' });
    expect(await get(port, '/', as(partner))).toMatchObject({ status: 200, body: 'spiffe://b.org/billing' });
  });

  it("refuses an a.org SPIFFE ID issued by b.org's CA, although b.org's root is in OpenSSL's union", async () => {
    const failures: unknown[] = [];
    const onFailure = (message: unknown) => failures.push(message);
    diagnostics.subscribe(channels.handshakeFailure, onFailure);
    try {
      const forged = await makeLeaf(bRoot, { uris: ['spiffe://a.org/admin'] });
      await expect(handshakeError(port, as(forged))).resolves.toBeInstanceOf(Error);
      const viaIntermediate = await makeLeaf(await makeIntermediate(bRoot), {
        uris: ['spiffe://a.org/admin'],
      });
      await expect(handshakeError(port, as(viaIntermediate))).resolves.toBeInstanceOf(Error);
    } finally {
      diagnostics.unsubscribe(channels.handshakeFailure, onFailure);
    }
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ reason: 'unknown_ca' });
    const { error } = failures[0] as { error: MeshlessError };
    expect(error.code).toBe('ERR_MESHLESS_PEER_BUNDLE_MISMATCH');
    expect(error.context).toMatchObject({ spiffeId: 'spiffe://a.org/admin', rule: 'foreign-issuer' });
  });

  it('refuses a peer of a trust domain it does not federate with', async () => {
    const stranger = await makeLeaf(cRoot, { uris: ['spiffe://c.org/x'] });
    await expect(handshakeError(port, as(stranger))).resolves.toBeInstanceOf(Error);
  });

  it('serves a peer issued by an intermediate, on full and resumed handshakes', async () => {
    const partner = await makeLeaf(await makeIntermediate(bRoot), { uris: ['spiffe://b.org/ledger'] });
    const first = await get(port, '/', as(partner));
    expect(first).toMatchObject({ status: 200, body: 'spiffe://b.org/ledger', resumed: false });
    const again = await get(port, '/', { ...as(partner), session: first.session });
    expect(again).toMatchObject({ status: 200, body: 'spiffe://b.org/ledger', resumed: true });
  });

  it('refuses to resume the session of a refused peer', async () => {
    const forged = await makeLeaf(bRoot, { uris: ['spiffe://a.org/admin'] });
    // The server may send a ticket before it closes the connection; resuming with it must fail too.
    const session = await new Promise<Buffer | undefined>((resolve) => {
      const req = https.request({
        host: '127.0.0.1',
        port,
        agent: false,
        cert: forged.chainPem,
        key: forged.keyPem,
        ca: aRoot.rootPem,
        checkServerIdentity: () => undefined,
      });
      let ticket: Buffer | undefined;
      req.on('socket', (socket) => socket.on('session', (s: Buffer) => (ticket = s)));
      req.on('error', () => resolve(ticket));
      req.on('response', () => resolve(undefined));
      req.end();
    });
    if (session) await expect(get(port, '/', { ...as(forged), session })).rejects.toThrow();
  });

  it('keeps the connections of peers still trusted when a bundle is added, intermediates or not', async () => {
    const partner = await makeLeaf(await makeIntermediate(bRoot), { uris: ['spiffe://b.org/ledger'] });
    const agent = keepAliveAgent();
    try {
      const before = await get(port, '/', as(partner), agent);
      source.set(federated({ 'c.org': cRoot.rootPem }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = await get(port, '/', as(partner), agent);
      expect(after.status).toBe(200);
      expect(after.localPort).toBe(before.localPort);
      // Dropping b.org closes it.
      const closed = new Promise<void>((resolve) => {
        for (const socket of Object.values(agent.freeSockets).flat()) socket?.once('close', () => resolve());
      });
      source.set(loadMaterial({ cert: web.chainPem, key: web.keyPem, ca: aRoot.rootPem }));
      await closed;
    } finally {
      agent.destroy();
      source.set(federated());
    }
  });
});

describe('a server whose source withdraws its material', () => {
  it('refuses new connections until the source offers material again', async () => {
    const own = await makeLeaf(aRoot, { uris: ['spiffe://a.org/orders'] });
    source.on('error', () => {});
    source.withdraw(new MeshlessError('ERR_MESHLESS_CERT_EXPIRED', 'taken back'));
    await expect(get(port, '/', as(own))).rejects.toThrow();
    // The same material comes back: offered after a withdrawal, it is current again.
    expect(source.set(federated())).toBe(true);
    expect((await get(port, '/', as(own))).status).toBe(200);
  });
});
