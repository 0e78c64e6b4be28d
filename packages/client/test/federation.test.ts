import {
  authorize,
  loadMaterial,
  MeshlessError,
  memorySource,
  staticSource,
  type TlsMaterial,
} from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIntermediate, makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { createFetch } from '../src/index.js';
import { causes, startServer, type TestServer } from './helpers.js';

let aRoot: TestCa;
let bRoot: TestCa;
let client: TlsMaterial;
const servers: TestServer[] = [];

// A server of `trustDomain`'s bundle trusting the client's root for client certificates.
async function serve(issuer: TestCa, spiffeId: string, caPem: string): Promise<TestServer> {
  const leaf = await makeLeaf(issuer, { uris: [spiffeId] });
  const material = loadMaterial({ cert: leaf.chainPem, key: leaf.keyPem, ca: caPem });
  const server = await startServer({ material, clientCa: aRoot.rootPem });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  aRoot = await makeRoot({ trustDomain: 'a.org' });
  bRoot = await makeRoot({ trustDomain: 'b.org' });
  const web = await makeLeaf(aRoot, { uris: ['spiffe://a.org/web'] });
  client = loadMaterial({
    cert: web.chainPem,
    key: web.keyPem,
    ca: aRoot.rootPem,
    federatedBundles: { 'b.org': bRoot.rootPem },
  });
});

afterAll(async () => {
  for (const server of servers) await server.close();
});

describe('a client with federated bundles', () => {
  it('reaches servers of its own and of the federated trust domain, intermediates included', async () => {
    const own = await serve(aRoot, 'spiffe://a.org/orders', aRoot.rootPem);
    const partner = await serve(await makeIntermediate(bRoot), 'spiffe://b.org/billing', bRoot.rootPem);
    const fetch = createFetch({ source: staticSource(client), authorizeServer: authorize.any() });
    try {
      expect((await fetch(own.url)).status).toBe(200);
      expect((await fetch(partner.url)).status).toBe(200);
    } finally {
      await fetch.close();
    }
  });

  it("refuses a server presenting a.org's ID issued by b.org's CA, even when the policy allows the ID", async () => {
    const forged = await serve(bRoot, 'spiffe://a.org/orders', bRoot.rootPem);
    const fetch = createFetch({ source: staticSource(client), authorizeServer: 'spiffe://a.org/orders' });
    try {
      const error = await fetch(forged.url).then(
        () => undefined,
        (err: unknown) => err,
      );
      const cause = causes(error).find((c) => c instanceof MeshlessError) as MeshlessError | undefined;
      expect(cause?.code).toBe('ERR_MESHLESS_PEER_BUNDLE_MISMATCH');
      expect(cause?.context).toMatchObject({ spiffeId: 'spiffe://a.org/orders', rule: 'foreign-issuer' });
    } finally {
      await fetch.close();
    }
  });

  it('makes no new connection while the source is withdrawn', async () => {
    const own = await serve(aRoot, 'spiffe://a.org/orders', aRoot.rootPem);
    const source = memorySource(client);
    source.on('error', () => {});
    const fetch = createFetch({ source, authorizeServer: authorize.any() });
    try {
      source.withdraw(new MeshlessError('ERR_MESHLESS_CERT_EXPIRED', 'taken back'));
      const error = await fetch(own.url).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(causes(error).some((c) => c instanceof MeshlessError && c.message === 'taken back')).toBe(true);
    } finally {
      await fetch.close();
      await source.close();
    }
  });
});
