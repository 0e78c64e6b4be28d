// Attacks on resumed TLS sessions (issue 15, point 1): a session made while a peer was trusted must
// not let it in once its root left the bundle or its certificate expired, and a session a
// permissive server gave a certificate-less client must not open a strict server. Every attack runs
// over TLS 1.2 and 1.3, against the HTTP/1.1 and the HTTP/2 server, in strict and permissive mode,
// each after a positive control showing the session does resume while it should.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { close, listen } from '../../../test/support/https-client.js';
import { type Exchange, exchange } from '../../../test/support/tls-exchange.js';
import { createSecureServer, createServer, type ServerMode } from '../src/index.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const BILLING = 'spiffe://example.org/ns/prod/sa/billing';
const VERSIONS: SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];
const KINDS = ['https', 'http2'] as const;
const MODES: ServerMode[] = ['strict', 'permissive'];
const COMBINATIONS = VERSIONS.flatMap((version) =>
  KINDS.flatMap((kind) => MODES.map((mode) => ({ version, kind, mode }))),
);

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
let oldRoot: TestCa;
let newRoot: TestCa;
let serverLeaf: Leaf;
let client: Leaf;
const opened: { server: Server; source: MemorySource }[] = [];

beforeAll(async () => {
  oldRoot = await makeRoot();
  newRoot = await makeRoot();
  serverLeaf = await makeLeaf(newRoot, { uris: [BILLING] });
  client = await makeLeaf(oldRoot, { uris: [ORDERS] });
});

afterAll(async () => {
  for (const { server, source } of opened) {
    await close(server);
    await source.close();
  }
});

async function start(
  kind: (typeof KINDS)[number],
  mode: ServerMode,
  ca: string,
  extra: { ticketKeys?: Buffer } = {},
): Promise<{ port: number; source: MemorySource }> {
  const source = memorySource(loadMaterial({ ...materialOf(serverLeaf), ca }));
  const options = { source, authorize: authorize.id(ORDERS), mode, ...extra };
  const server =
    kind === 'https'
      ? createServer(options, (_req, res) => res.end('served'))
      : createSecureServer(options, (_req, res) => res.end('served'));
  opened.push({ server, source });
  return { port: await listen(server), source };
}

const served = (outcome: Exchange) => outcome.status === 200 && outcome.body === 'served';

describe.each(COMBINATIONS)('a resumed session, $version, $kind, $mode', ({ version, kind, mode }) => {
  const asClient = (leaf: Leaf, session?: Buffer) => ({
    cert: leaf.chainPem,
    key: leaf.keyPem,
    ca: newRoot.rootPem,
    maxVersion: version,
    h2: kind === 'http2',
    session,
  });

  it('is not served once its root left the trust bundle', async () => {
    const { port, source } = await start(kind, mode, oldRoot.rootPem + newRoot.rootPem);
    const first = await exchange(port, asClient(client));
    expect(served(first), 'full handshake').toBe(true);
    expect(first.session).toBeDefined();
    // Positive control: the session resumes while the root is trusted.
    const resumed = await exchange(port, asClient(client, first.session));
    expect(resumed.resumed).toBe(true);
    expect(served(resumed)).toBe(true);

    source.set(loadMaterial({ ...materialOf(serverLeaf), ca: newRoot.rootPem }));
    const attack = await exchange(port, asClient(client, resumed.session ?? first.session));
    expect(served(attack)).toBe(false);
    expect(attack.status).toBeUndefined();
  });
});

describe('a resumed session of a certificate that expired since', () => {
  it('is refused on every version, server and mode, after resuming while valid', async () => {
    const servers = await Promise.all(
      COMBINATIONS.map(async (combination) => ({
        ...combination,
        port: (await start(combination.kind, combination.mode, oldRoot.rootPem + newRoot.rootPem)).port,
      })),
    );
    const lifetimeMs = 4000;
    const made = Date.now();
    const shortLived = await makeLeaf(oldRoot, {
      uris: [ORDERS],
      notBefore: new Date(made - 60_000),
      notAfter: new Date(made + lifetimeMs),
    });
    const sessions = await Promise.all(
      servers.map(async ({ version, kind, mode, port }) => {
        const as = (session?: Buffer) => ({
          cert: shortLived.chainPem,
          key: shortLived.keyPem,
          ca: newRoot.rootPem,
          maxVersion: version,
          h2: kind === 'http2',
          session,
        });
        const first = await exchange(port, as());
        const control = await exchange(port, as(first.session));
        return { name: `${version} ${kind} ${mode}`, port, as, first, control };
      }),
    );
    for (const { name, first, control } of sessions) {
      expect(served(first), name).toBe(true);
      expect(control.resumed, name).toBe(true);
      expect(served(control), name).toBe(true);
    }
    // Past the certificate's notAfter (whole seconds in X.509), the sessions are still live tickets.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, made + lifetimeMs + 1100 - Date.now())));
    for (const { name, port, as, first, control } of sessions) {
      const attack = await exchange(port, as(control.session ?? first.session));
      expect(served(attack), name).toBe(false);
    }
  });
});

describe('a session ticket from a permissive server sharing ticket keys', () => {
  it.each(VERSIONS)('does not open a strict server, %s', async (version) => {
    const ticketKeys = randomBytes(48);
    const permissive = await start('https', 'permissive', oldRoot.rootPem + newRoot.rootPem, { ticketKeys });
    const strict = await start('https', 'strict', oldRoot.rootPem + newRoot.rootPem, { ticketKeys });
    const anonymous = (session?: Buffer) => ({ ca: newRoot.rootPem, maxVersion: version, session });
    const first = await exchange(permissive.port, anonymous());
    expect(served(first)).toBe(true);
    expect(first.session).toBeDefined();
    // Positive control: the ticket resumes where it was made.
    const control = await exchange(permissive.port, anonymous(first.session));
    expect(control.resumed).toBe(true);
    expect(served(control)).toBe(true);

    const attack = await exchange(strict.port, anonymous(control.session ?? first.session));
    expect(served(attack)).toBe(false);
    expect(attack.status).toBeUndefined();
  });
});
