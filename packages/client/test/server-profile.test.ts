import { type Authorizer, authorize, loadMaterial, memorySource, type TlsMaterial } from '@meshless/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyUsage, makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { opensslLeaf, opensslRefusesKeyOf } from '../../../test/support/openssl-certs.js';
import { createAgent } from '../src/index.js';
import {
  CLIENT_ID,
  meshlessCode,
  rejectionOf,
  SERVER_ID,
  startServer,
  TD,
  type TestServer,
} from './helpers.js';

const ADMIN = `spiffe://${TD}/ns/prod/sa/admin`;

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
const { digitalSignature, keyCertSign, cRLSign } = keyUsage;

interface Presented {
  chainPem: string;
  keyPem: string;
}

let root: TestCa;
let otherRoot: TestCa;
let client: TlsMaterial;
let mergedBundleClient: TlsMaterial;
let valid: Presented;
const presented = new Map<string, Presented>();
const servers: TestServer[] = [];

beforeAll(async () => {
  root = await makeRoot({ trustDomain: TD });
  otherRoot = await makeRoot({ trustDomain: 'other.org' });
  const clientLeaf = await makeLeaf(root, { uris: [CLIENT_ID] });
  client = loadMaterial({ ...materialOf(clientLeaf), ca: root.rootPem });
  mergedBundleClient = loadMaterial({ ...materialOf(clientLeaf), ca: root.rootPem + otherRoot.rootPem });
  valid = await makeLeaf(root, { uris: [SERVER_ID] });
  presented.set(
    'ca-leaf',
    await makeLeaf(root, { uris: [SERVER_ID], isCa: true, keyUsage: digitalSignature }),
  );
  presented.set('no-key-usage', await makeLeaf(root, { uris: [SERVER_ID], keyUsage: null }));
  presented.set(
    'key-cert-sign',
    await makeLeaf(root, { uris: [SERVER_ID], keyUsage: digitalSignature | keyCertSign }),
  );
  presented.set(
    'crl-sign',
    await makeLeaf(root, { uris: [SERVER_ID], keyUsage: digitalSignature | cRLSign }),
  );
  presented.set('no-path', await makeLeaf(root, { uris: [`spiffe://${TD}`] }));
  presented.set('rsa-1024', await makeLeaf(root, { uris: [SERVER_ID], key: 'rsa-1024' }));
  presented.set(
    'other-trust-domain',
    await makeLeaf(otherRoot, { uris: ['spiffe://other.org/ns/prod/sa/orders'] }),
  );
  const minter = await makeLeaf(root, {
    uris: [CLIENT_ID],
    isCa: true,
    keyUsage: digitalSignature | keyCertSign,
  });
  presented.set(
    'minted',
    await makeLeaf({ ...minter, chainPem: minter.certPem, rootPem: root.rootPem } as TestCa, {
      uris: [ADMIN],
    }),
  );
  const rootIssuer = { certPem: root.certPem, keyPem: root.keyPem, chainPem: '' };
  presented.set(
    'openssl-rsa-1024',
    await opensslLeaf(rootIssuer, {
      key: 'rsa-1024',
      extensions: `basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\nsubjectAltName = URI:${SERVER_ID}`,
    }),
  );
  presented.set(
    'openssl-ca-leaf',
    await opensslLeaf(rootIssuer, {
      extensions: `basicConstraints = critical,CA:TRUE\nkeyUsage = critical,digitalSignature,keyCertSign\nsubjectAltName = URI:${SERVER_ID}`,
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.close();
});

async function serverPresenting(
  cert: Presented,
  maxVersion: 'TLSv1.2' | 'TLSv1.3',
  clientCa = root.rootPem,
): Promise<TestServer> {
  // The attacker's server: plain node:https, trusting our client, presenting whatever it likes.
  const material = { certPem: cert.chainPem, keyPem: cert.keyPem, caPem: clientCa } as TlsMaterial;
  const server = await startServer({
    material,
    maxVersion,
    // The attacker lowers its own OpenSSL security level, so that it can present RSA-1024 on every line.
    ciphers: 'DEFAULT:@SECLEVEL=0',
    handler: (_req, res) => {
      res.setHeader('connection', 'close');
      res.end('served');
    },
  });
  servers.push(server);
  return server;
}

const ATTACKS: { name: string; code: string; authorizer: Authorizer }[] = [
  { name: 'ca-leaf', code: 'ERR_MESHLESS_SVID_INVALID', authorizer: authorize.id(SERVER_ID) },
  { name: 'no-key-usage', code: 'ERR_MESHLESS_SVID_INVALID', authorizer: authorize.id(SERVER_ID) },
  { name: 'key-cert-sign', code: 'ERR_MESHLESS_SVID_INVALID', authorizer: authorize.id(SERVER_ID) },
  { name: 'crl-sign', code: 'ERR_MESHLESS_SVID_INVALID', authorizer: authorize.id(SERVER_ID) },
  { name: 'no-path', code: 'ERR_MESHLESS_SVID_INVALID', authorizer: authorize.memberOf(TD) },
  { name: 'rsa-1024', code: 'ERR_MESHLESS_KEY_WEAK', authorizer: authorize.id(SERVER_ID) },
  { name: 'other-trust-domain', code: 'ERR_MESHLESS_PEER_BUNDLE_MISMATCH', authorizer: authorize.any() },
  { name: 'minted', code: 'ERR_MESHLESS_SVID_INVALID', authorizer: authorize.id(ADMIN) },
  { name: 'openssl-rsa-1024', code: 'ERR_MESHLESS_KEY_WEAK', authorizer: authorize.id(SERVER_ID) },
  { name: 'openssl-ca-leaf', code: 'ERR_MESHLESS_SVID_INVALID', authorizer: authorize.id(SERVER_ID) },
];
const CASES = ATTACKS.flatMap((attack) => VERSIONS.map((version) => ({ ...attack, version })));

describe('a server certificate OpenSSL verifies but the X509-SVID profile or key policy refuses', () => {
  it.each(CASES)('$name is refused, $version', async ({ name, code, authorizer, version }) => {
    // The client trusts other.org's root too, as a merged bundle would: only the trust domain rule stops it.
    const source = memorySource(mergedBundleClient);
    const agent = createAgent({
      source,
      authorizeServer: authorize.anyOf(authorizer, authorize.id(SERVER_ID)),
    });
    try {
      const control = await serverPresenting(valid, version);
      const answer = await request(control.url, { dispatcher: agent });
      expect(await answer.body.text()).toBe('served');

      const attacker = await serverPresenting(presented.get(name) as Presented, version);
      const error = await rejectionOf(request(attacker.url, { dispatcher: agent }));
      // Where this line's OpenSSL refuses the weak key itself (OpenSSL 3.5, Node 22 and later), the
      // refusal is OpenSSL's, during the handshake; on OpenSSL 3.0 it is meshless's key policy.
      if (code === 'ERR_MESHLESS_KEY_WEAK' && opensslRefusesKeyOf(presented.get(name) as Presented))
        expect(meshlessCode(error)).toMatch(/^ERR_MESHLESS_(SERVER_CERT_UNTRUSTED|TLS_HANDSHAKE_FAILED)$/);
      else expect(meshlessCode(error)).toBe(code);
    } finally {
      await agent.close();
      await source.close();
    }
  });
});

describe('a resumed session with a server', () => {
  it.each(VERSIONS)('is not used once the server certificate expired, %s', async (version) => {
    const lifetimeMs = 4000;
    const made = Date.now();
    const shortLived = await makeLeaf(root, {
      uris: [SERVER_ID],
      notBefore: new Date(made - 60_000),
      notAfter: new Date(made + lifetimeMs),
    });
    const server = await serverPresenting(shortLived, version);
    const source = memorySource(client);
    const agent = createAgent({ source, authorizeServer: SERVER_ID });
    try {
      expect(await (await request(server.url, { dispatcher: agent })).body.text()).toBe('served');
      // Positive control: the next connection resumes.
      expect(await (await request(server.url, { dispatcher: agent })).body.text()).toBe('served');
      expect(server.connections.map((c) => c.reused)).toEqual([false, true]);

      await new Promise((resolve) => setTimeout(resolve, Math.max(0, made + lifetimeMs + 1100 - Date.now())));
      const error = await rejectionOf(request(server.url, { dispatcher: agent }));
      expect(meshlessCode(error)).toMatch(/^ERR_MESHLESS_(CERT_EXPIRED|SERVER_CERT_UNTRUSTED)$/);
      expect(server.connections.filter((c) => c.reused)).toHaveLength(1);
    } finally {
      await agent.close();
      await source.close();
    }
  });

  it.each(VERSIONS)('is not used once the server root left the bundle, %s', async (version) => {
    const newRoot = await makeRoot({ trustDomain: TD });
    // The server accepts clients of either root: only the client's trust in the server changes.
    const server = await serverPresenting(valid, version, root.rootPem + newRoot.rootPem);
    const source = memorySource(
      loadMaterial({
        ...materialOf(await makeLeaf(root, { uris: [CLIENT_ID] })),
        ca: root.rootPem + newRoot.rootPem,
      }),
    );
    const agent = createAgent({ source, authorizeServer: SERVER_ID });
    try {
      expect(await (await request(server.url, { dispatcher: agent })).body.text()).toBe('served');
      expect(await (await request(server.url, { dispatcher: agent })).body.text()).toBe('served');
      expect(server.connections.map((c) => c.reused)).toEqual([false, true]);

      const moved = await makeLeaf(newRoot, { uris: [CLIENT_ID] });
      source.set(loadMaterial({ ...materialOf(moved), ca: newRoot.rootPem }));
      const error = await rejectionOf(request(server.url, { dispatcher: agent }));
      expect(meshlessCode(error)).toMatch(/^ERR_MESHLESS_(SERVER_CERT_UNTRUSTED|TLS_HANDSHAKE_FAILED)$/);
      expect(server.connections.filter((c) => c.reused)).toHaveLength(1);
    } finally {
      await agent.close();
      await source.close();
    }
  });
});
