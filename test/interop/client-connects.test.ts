// A meshless client (@meshless/client over undici) talks to foreign TLS servers that require and
// verify client certificates: nginx (ssl_verify_client on), openssl s_server -Verify, a Python ssl
// server (CERT_REQUIRED) and a Go server (tls.RequireAndVerifyClientCert), with certificates from
// @meshless/pki and from the openssl CLI. Each server reports the client it verified; the client
// checks each server's SPIFFE ID, refuses a server with the wrong one, and reports a server's refusal
// of a client certificate it does not trust.
import { createAgent } from '@meshless/client';
import { isMeshlessError, loadMaterial, type MeshlessError, staticSource } from '@meshless/core';
import { createCa } from '@meshless/pki';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ID,
  type Credential,
  type CredentialSet,
  credentialSets,
  type Flavor,
  SERVER_ID,
} from './support/credentials.js';
import { buildGoPeer } from './support/go-peer.js';
import { goServer, type RunningPeer, SERVER_PEERS, type ServerPeer } from './support/server-peers.js';
import { requireTool, tempDir } from './support/tools.js';

const FLAVORS: Flavor[] = ['pki', 'openssl'];
const PEERS = ['nginx', 'openssl s_server', 'python ssl', 'go crypto/tls'] as const;

let removeDir: () => Promise<void> = async () => {};
let sets: Record<Flavor, CredentialSet>;
/** A client certificate from a CA no peer trusts, with a bundle that still trusts each set's servers. */
let foreign: { certPem: string; keyPem: string; caPem: string };
const peers = new Map<string, ServerPeer>();
const running = new Map<string, RunningPeer>();

beforeAll(async () => {
  for (const tool of ['nginx', 'openssl', 'python3', 'go'] as const) requireTool(tool);
  const temp = await tempDir('interop-client');
  removeDir = temp.remove;
  const [built, made, foreignCa] = await Promise.all([
    buildGoPeer(temp.dir),
    credentialSets(temp.dir),
    createCa({ trustDomain: 'example.org' }),
  ]);
  sets = made;
  const issued = await foreignCa.issue({ spiffeId: CLIENT_ID });
  foreign = { certPem: issued.chainPem, keyPem: issued.keyPem, caPem: issued.caPem };
  for (const peer of [...SERVER_PEERS, goServer(built)]) peers.set(peer.name, peer);
  const starts: Promise<void>[] = [];
  for (const flavor of FLAVORS) {
    for (const peer of peers.values()) {
      starts.push(
        peer.start(sets[flavor], temp.dir).then((started) => {
          running.set(`${peer.name}/${flavor}`, started);
        }),
      );
    }
  }
  const results = await Promise.allSettled(starts);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}, 120_000);

afterAll(async () => {
  await Promise.all([...running.values()].map((peer) => peer.stop()));
  await removeDir();
});

function setup(peerName: string, flavor: Flavor) {
  const peer = peers.get(peerName);
  const server = running.get(`${peerName}/${flavor}`);
  if (!peer || !server) throw new Error(`setup failed for ${peerName} / ${flavor}`);
  return { peer, url: `https://127.0.0.1:${server.port}/whoami`, set: sets[flavor] };
}

/** One GET through a fresh meshless agent; the agent is closed afterwards. */
async function call(
  url: string,
  material: { cert: string; key: string; ca: string },
  authorizeServer: string,
) {
  const agent = createAgent({
    source: staticSource(loadMaterial(material)),
    authorizeServer,
    connect: { timeout: 5_000 },
  });
  try {
    const answer = await request(url, { dispatcher: agent, headersTimeout: 5_000, bodyTimeout: 5_000 });
    return { status: answer.statusCode, body: await answer.body.text() };
  } finally {
    await agent.close();
  }
}

async function failureOf(promise: Promise<unknown>): Promise<MeshlessError> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  for (let link = error; link; link = (link as { cause?: unknown }).cause)
    if (isMeshlessError(link)) return link;
  throw new Error(
    `expected a MeshlessError in the cause chain, got ${error === undefined ? 'success' : String(error)}`,
  );
}

const materialOf = (set: CredentialSet, who: Credential) => ({
  cert: who.chainPem,
  key: who.keyPem,
  ca: set.caPem,
});

describe.each(FLAVORS)('a meshless client with %s-made certificates', (flavor) => {
  describe.concurrent.each(PEERS)('and a %s server', (peerName) => {
    it('calls it over TLS 1.3; the server verifies the client certificate', async () => {
      const { peer, url, set } = setup(peerName, flavor);
      const answer = await call(url, materialOf(set, set.client), SERVER_ID);
      expect(answer.status, answer.body).toBe(200);
      const seen = peer.seen(answer.body);
      if (peerName === 'nginx') expect(seen.client).toMatch(/(^|,)CN=client(,|$)/);
      else expect(seen.client).toBe(CLIENT_ID);
      expect(seen.version).toBe('TLSv1.3');
    });

    it('refuses the server when it does not present the expected SPIFFE ID', async () => {
      const { url, set } = setup(peerName, flavor);
      const error = await failureOf(
        call(url, materialOf(set, set.client), 'spiffe://example.org/ns/prod/sa/other'),
      );
      expect(error.code).toBe('ERR_MESHLESS_SERVER_UNAUTHORIZED');
      expect(error.message).toContain(SERVER_ID);
    });

    it('reports the server’s refusal of a client certificate from a CA it does not trust', async () => {
      const { peer, url, set } = setup(peerName, flavor);
      const material = { cert: foreign.certPem, key: foreign.keyPem, ca: foreign.caPem + set.caPem };
      if (peer.refusesUntrustedWith === 400) {
        // nginx completes the handshake and answers 400 "The SSL certificate error".
        const answer = await call(url, material, SERVER_ID);
        expect(answer.status).toBe(400);
        expect(answer.body).toContain('SSL certificate error');
      } else {
        const error = await failureOf(call(url, material, SERVER_ID));
        expect(error.code, error.message).toBe('ERR_MESHLESS_CLIENT_CERT_REJECTED');
      }
    });
  });
});
