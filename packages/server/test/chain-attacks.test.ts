// Attacks found by an independent attacker review of issue 15's fix, each against a real server over
// TLS 1.2 and 1.3 after a positive control: a workload issuer hidden behind duplicate or filler
// certificates, a chain whose hidden intermediate or root expires after the session was made, a
// handshake that straddles a rotation of the trust bundle, URI SANs without a SPIFFE ID, a denied
// peer taking the socket over (Upgrade, CONNECT, Expect), and a certificate that expires while its
// connection is kept alive.
import diagnostics from 'node:diagnostics_channel';
import type { Server } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { authorize, channels, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  keyUsage,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  materialOf,
  type TestCa,
} from '../../../test/support/certs.js';
import { close, listen } from '../../../test/support/https-client.js';
import { sClientSession } from '../../../test/support/s-client.js';
import { exchange } from '../../../test/support/tls-exchange.js';
import { createServer } from '../src/index.js';

const TD = 'example.org';
const WORKLOAD = `spiffe://${TD}/ns/prod/sa/web`;
const ADMIN = `spiffe://${TD}/ns/prod/sa/admin`;
const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
const { digitalSignature, keyCertSign } = keyUsage;

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
let root: TestCa;
let serverLeaf: Leaf;
const servers: Server[] = [];
const sources: MemorySource[] = [];
const failures: { error?: { code?: string; context?: { rule?: string } } }[] = [];
const onFailure = (message: unknown) => failures.push(message as (typeof failures)[number]);

beforeAll(async () => {
  root = await makeRoot({ trustDomain: TD });
  serverLeaf = await makeLeaf(root, { uris: [`spiffe://${TD}/ns/prod/sa/server`] });
  diagnostics.subscribe(channels.handshakeFailure, onFailure);
});

afterAll(async () => {
  diagnostics.unsubscribe(channels.handshakeFailure, onFailure);
  for (const server of servers) await close(server);
  for (const source of sources) await source.close();
});

async function serve(
  allowed: string,
  ca = root.rootPem,
  own: Leaf = serverLeaf,
): Promise<{ port: number; source: MemorySource; server: Server }> {
  const source = memorySource(loadMaterial({ ...materialOf(own), ca }));
  const server = createServer({ source, authorize: authorize.id(allowed) }, (_req, res) => res.end('served'));
  // Handlers that would let a request through if meshless did not guard these events.
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
  server.on('connect', (_req, socket) => socket.end('HTTP/1.1 200 Connection Established\r\n\r\n'));
  server.on('checkContinue', (_req, res) => {
    res.writeContinue();
    res.end('served');
  });
  servers.push(server);
  sources.push(source);
  return { port: await listen(server), source, server };
}

// openssl s_client sends the chain exactly as given (-cert_chain), duplicates and all.
describe('a workload issuer hidden in the presented chain', () => {
  it.each(VERSIONS)('is found behind duplicates and fillers, %s', async (version) => {
    const minter = await makeLeaf(root, {
      uris: [WORKLOAD],
      isCa: true,
      keyUsage: digitalSignature | keyCertSign,
    });
    const minted = await makeLeaf({ ...minter, chainPem: minter.certPem, rootPem: root.rootPem } as TestCa, {
      uris: [ADMIN],
    });
    const fillers = await Promise.all(Array.from({ length: 8 }, () => makeIntermediate(root)));
    const { port } = await serve(ADMIN);
    const honest = await makeLeaf(root, { uris: [ADMIN] });
    const control = await exchange(port, {
      cert: honest.chainPem,
      key: honest.keyPem,
      ca: root.rootPem,
      maxVersion: version,
    });
    expect(control.status).toBe(200);
    for (const chainPem of [
      minted.certPem + root.certPem + root.certPem + minter.certPem,
      minted.certPem + fillers.map((f) => f.certPem).join('') + minter.certPem,
    ]) {
      failures.length = 0;
      const attacker = await sClientSession({ chainPem, keyPem: minted.keyPem }, root.rootPem, version);
      try {
        expect((await attacker.get(port, false)).status).toBeUndefined();
        expect(failures.some((f) => f.error?.context?.rule === 'issuer-is-workload')).toBe(true);
      } finally {
        await attacker.close();
      }
    }
  });
});

describe('a resumed session whose chain expired since', () => {
  it.each(VERSIONS)('is refused when a hidden intermediate or the root expired, %s', async (version) => {
    const made = Date.now();
    const lifetime = { notBefore: new Date(made - 60_000), notAfter: new Date(made + 5000) };
    const shortIntermediate = await makeIntermediate(root, lifetime);
    const viaIntermediate = await makeLeaf(shortIntermediate, { uris: [WORKLOAD] });
    const shortRoot = await makeRoot({ trustDomain: TD, ...lifetime });
    const viaRoot = await makeLeaf(shortRoot, { uris: [WORKLOAD] });
    const { port } = await serve(WORKLOAD, root.rootPem + shortRoot.rootPem);
    const clients = [
      await sClientSession(
        {
          chainPem: viaIntermediate.certPem + root.certPem + root.certPem + shortIntermediate.certPem,
          keyPem: viaIntermediate.keyPem,
        },
        root.rootPem,
        version,
      ),
      await sClientSession({ chainPem: viaRoot.certPem, keyPem: viaRoot.keyPem }, root.rootPem, version),
    ];
    try {
      for (const client of clients) {
        expect((await client.get(port, false)).status).toBe(200);
        const control = await client.get(port, true);
        expect(control.resumed).toBe(true);
        expect(control.status).toBe(200);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, made + 6100 - Date.now())));
      for (const client of clients) {
        const attack = await client.get(port, true);
        expect(attack.status).toBeUndefined();
      }
    } finally {
      for (const client of clients) await client.close();
    }
  });
});

describe('a handshake that straddles a rotation of the trust bundle', () => {
  it.each(VERSIONS)('is judged against the new bundle, %s', async (version) => {
    const newRoot = await makeRoot({ trustDomain: TD });
    const oldClient = await makeLeaf(root, { uris: [WORKLOAD] });
    const { port, source, server } = await serve(WORKLOAD, root.rootPem + newRoot.rootPem);
    const as = { cert: oldClient.chainPem, key: oldClient.keyPem, ca: root.rootPem, maxVersion: version };
    expect((await exchange(port, as)).status).toBe(200);
    // The TCP connection is accepted (and its TLS socket made with the old secure context) before the
    // rotation; the handshake only starts after it.
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    const tcp = net.connect(port, '127.0.0.1');
    await accepted;
    source.set(
      loadMaterial({
        ...materialOf(await makeLeaf(newRoot, { uris: [`spiffe://${TD}/ns/prod/sa/server`] })),
        ca: newRoot.rootPem,
      }),
    );
    const status = await new Promise<number | undefined>((resolve) => {
      const socket = tls.connect({
        socket: tcp,
        ...as,
        ca: root.rootPem + newRoot.rootPem,
        checkServerIdentity: () => undefined,
      });
      let text = '';
      socket.on('secureConnect', () =>
        socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
      );
      socket.on('data', (chunk) => {
        text += chunk;
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) || undefined));
      setTimeout(() => socket.destroy(), 5000);
    });
    expect(status).toBeUndefined();
  });
});

describe('a peer with URI SANs but no SPIFFE ID', () => {
  it.each([
    ['an https: URI', 'https://example.org/web'],
    ['a SPIFFE ID behind a space', ` ${WORKLOAD}`],
  ])('is refused: %s', async (_name, uri) => {
    const { port } = await serve(WORKLOAD);
    const odd = await makeLeaf(root, { uris: [uri] });
    failures.length = 0;
    const outcome = await exchange(port, { cert: odd.chainPem, key: odd.keyPem, ca: root.rootPem });
    expect(outcome.status).toBeUndefined();
    expect(failures.some((f) => f.error?.context?.rule === 'uri-not-spiffe')).toBe(true);
  });
});

/** Sends raw HTTP/1.1 on a fresh mTLS connection and resolves with all the server wrote. */
async function raw(port: number, peer: Leaf, requests: string[], pauseMs = 0): Promise<string> {
  return await new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: peer.chainPem,
      key: peer.keyPem,
      ca: root.rootPem,
      checkServerIdentity: () => undefined,
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
    socket.on('secureConnect', async () => {
      for (const [index, request] of requests.entries()) {
        if (index > 0) await new Promise((r) => setTimeout(r, pauseMs));
        if (!socket.destroyed) socket.write(request);
      }
      setTimeout(() => socket.end(), 500);
    });
    setTimeout(() => socket.destroy(), pauseMs + 5000);
  });
}

describe('a denied peer taking the socket over', () => {
  it('gets 403 for Upgrade, CONNECT and Expect: 100-continue, never the handler', async () => {
    const { port } = await serve(ADMIN);
    const denied = await makeLeaf(root, { uris: [WORKLOAD] });
    const admin = await makeLeaf(root, { uris: [ADMIN] });
    const upgrade = 'GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n';
    const connect = 'CONNECT example.org:443 HTTP/1.1\r\nhost: example.org:443\r\n\r\n';
    const expectContinue = 'POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 1\r\n\r\n';
    // Positive control: the allowed peer reaches each handler.
    expect(await raw(port, admin, [upgrade])).toMatch(/^HTTP\/1\.1 101/);
    expect(await raw(port, admin, [connect])).toMatch(/^HTTP\/1\.1 200/);
    expect(await raw(port, admin, [expectContinue])).toMatch(/^HTTP\/1\.1 100/);
    for (const request of [upgrade, connect, expectContinue]) {
      const answer = await raw(port, denied, [request]);
      expect(answer).toMatch(/^HTTP\/1\.1 403/);
      expect(answer).not.toMatch(/ 101 | 200 | 100 /);
    }
  });
});

describe('a certificate that expires while its connection is kept alive', () => {
  it('gets 401 on the next request of that connection', async () => {
    const { port } = await serve(WORKLOAD);
    const made = Date.now();
    const shortLived = await makeLeaf(root, {
      uris: [WORKLOAD],
      notBefore: new Date(made - 60_000),
      notAfter: new Date(made + 3000),
    });
    const get = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n';
    const answer = await raw(port, shortLived, [get, get], Math.max(0, made + 4100 - Date.now()));
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '401']);
  });
});
