// A meshless server, strict mode, accepts and authorizes foreign TLS clients: curl, openssl s_client,
// Python's ssl module and a Go crypto/tls client, with certificates from @meshless/pki and from the
// openssl CLI. Each client verifies the server (chain and IP SAN); the server verifies each client
// and answers by its SPIFFE ID: 200 for the allowed one, 403 for an intruder, no answer without a
// certificate.
import type https from 'node:https';
import { authorize, loadMaterial, staticSource } from '@meshless/core';
import { createServer, peerOf, securityOf } from '@meshless/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../support/https-client.js';
import { CLIENT_PEERS, type ClientPeer, goClient } from './support/client-peers.js';
import {
  CLIENT_ID,
  type CredentialSet,
  credentialSets,
  type Flavor,
  SERVER_ID,
} from './support/credentials.js';
import { buildGoPeer } from './support/go-peer.js';
import { requireTool, tempDir } from './support/tools.js';

const FLAVORS: Flavor[] = ['pki', 'openssl'];
const PEERS = ['curl', 'openssl s_client', 'python ssl', 'go crypto/tls'] as const;

let removeDir: () => Promise<void> = async () => {};
let sets: Record<Flavor, CredentialSet>;
const peers = new Map<string, ClientPeer>();
const servers = new Map<Flavor, { server: https.Server; port: number }>();

beforeAll(async () => {
  // Fail (never skip) when a peer is missing, naming its Debian package.
  for (const tool of ['curl', 'openssl', 'python3', 'go'] as const) requireTool(tool);
  const temp = await tempDir('interop-server');
  removeDir = temp.remove;
  const [built, made] = await Promise.all([buildGoPeer(temp.dir), credentialSets(temp.dir)]);
  sets = made;
  for (const peer of [...CLIENT_PEERS, goClient(built)]) peers.set(peer.name, peer);
  for (const flavor of FLAVORS) {
    const set = sets[flavor];
    const material = loadMaterial({ cert: set.server.chainPem, key: set.server.keyPem, ca: set.caPem });
    expect(String(material.identity.spiffeId)).toBe(SERVER_ID);
    const server = createServer(
      { source: staticSource(material), authorize: authorize.id(CLIENT_ID), handshakeTimeout: 5_000 },
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ peer: String(peerOf(req)?.spiffeId), security: securityOf(req) }));
      },
    );
    servers.set(flavor, { server, port: await listen(server) });
  }
}, 120_000);

afterAll(async () => {
  for (const { server } of servers.values()) await close(server);
  await removeDir();
});

function setup(peerName: string, flavor: Flavor) {
  const peer = peers.get(peerName);
  const entry = servers.get(flavor);
  if (!peer || !entry) throw new Error(`setup failed for ${peerName} / ${flavor}`);
  return { peer, port: entry.port, set: sets[flavor] };
}

describe.each(FLAVORS)('a meshless server with %s-made certificates', (flavor) => {
  describe.concurrent.each(PEERS)('and a %s client', (peerName) => {
    it('serves the allowed client over TLS 1.3 and names its SPIFFE ID', async () => {
      const { peer, port, set } = setup(peerName, flavor);
      const answer = await peer.get(port, '/whoami', set, set.client);
      if (!answer.answered) throw new Error(`${peerName} got no answer: ${answer.why}`);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ peer: CLIENT_ID, security: 'mtls' });
      if (answer.version !== undefined) expect(answer.version).toBe('TLSv1.3');
    });

    it('answers 403 to an intruder the trust bundle vouches for but the authorizer denies', async () => {
      const { peer, port, set } = setup(peerName, flavor);
      const answer = await peer.get(port, '/whoami', set, set.intruder);
      if (!answer.answered) throw new Error(`${peerName} got no answer: ${answer.why}`);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'peer_forbidden' });
    });

    it('refuses a client that presents no certificate, before any HTTP', async () => {
      const { peer, port, set } = setup(peerName, flavor);
      const answer = await peer.get(port, '/whoami', set, undefined);
      if (answer.answered) throw new Error(`${peerName} was answered ${answer.status} without a certificate`);
      // The refusal is TLS's own: the certificate_required alert of TLS 1.3, not a crash of the peer.
      expect(answer.why).toMatch(/certificate[ _]required/i);
    });
  });
});
