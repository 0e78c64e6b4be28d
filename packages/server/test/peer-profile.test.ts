// Attacks with client certificates that chain to a trusted root but break the X509-SVID profile or
// the key policy (issue 15, point 2): OpenSSL accepts each of them, meshless must refuse each one at
// the handshake, over TLS 1.2 and 1.3, with the same code loadMaterial gives for such a certificate
// of our own, reported on the handshake-failure channel. Certificates are made both by this
// project's test factory and by the openssl CLI.
import diagnostics from 'node:diagnostics_channel';
import type { Server } from 'node:net';
import type { SecureVersion } from 'node:tls';
import { type Authorizer, authorize, channels, loadMaterial, memorySource } from '@meshless/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyUsage, makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { close, listen } from '../../../test/support/https-client.js';
import { opensslLeaf, opensslRefusesKeyOf } from '../../../test/support/openssl-certs.js';
import { sClientSession } from '../../../test/support/s-client.js';
import { exchange } from '../../../test/support/tls-exchange.js';
import { createServer, type ServerMode } from '../src/index.js';

const TD = 'example.org';
const WORKLOAD = `spiffe://${TD}/ns/prod/sa/web`;
const ADMIN = `spiffe://${TD}/ns/prod/sa/admin`;
const VERSIONS: SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];
const { digitalSignature, keyEncipherment, keyCertSign, cRLSign } = keyUsage;

interface Peer {
  chainPem: string;
  keyPem: string;
}
interface Attack {
  name: string;
  peer: () => Peer;
  /** meshless's code, or undefined where OpenSSL refuses the certificate itself, before meshless. */
  code: string | undefined;
  rule?: string;
  /** The authorizer that would let this peer in if its certificate were admitted. */
  authorizer: Authorizer;
  versions?: SecureVersion[];
}

let root: TestCa;
let otherRoot: TestCa;
let serverPeer: Awaited<ReturnType<typeof makeLeaf>>;
let valid: Peer;
const peers = new Map<string, Peer>();
const servers: Server[] = [];
const failures: { error?: { code?: string; context?: { rule?: string } }; reason: string }[] = [];
const onFailure = (message: unknown) => failures.push(message as (typeof failures)[number]);

beforeAll(async () => {
  root = await makeRoot({ trustDomain: TD });
  otherRoot = await makeRoot({ trustDomain: 'other.org' });
  serverPeer = await makeLeaf(root, { uris: [`spiffe://${TD}/ns/prod/sa/server`] });
  valid = await makeLeaf(root, { uris: [WORKLOAD] });
  peers.set('ca-leaf', await makeLeaf(root, { uris: [WORKLOAD], isCa: true, keyUsage: digitalSignature }));
  peers.set('no-key-usage', await makeLeaf(root, { uris: [WORKLOAD], keyUsage: null }));
  peers.set('no-digital-signature', await makeLeaf(root, { uris: [WORKLOAD], keyUsage: keyEncipherment }));
  peers.set(
    'key-cert-sign',
    await makeLeaf(root, { uris: [WORKLOAD], keyUsage: digitalSignature | keyCertSign }),
  );
  peers.set('crl-sign', await makeLeaf(root, { uris: [WORKLOAD], keyUsage: digitalSignature | cRLSign }));
  peers.set('no-path', await makeLeaf(root, { uris: [`spiffe://${TD}`] }));
  peers.set('rsa-1024', await makeLeaf(root, { uris: [WORKLOAD], key: 'rsa-1024' }));
  peers.set('other-trust-domain', await makeLeaf(otherRoot, { uris: ['spiffe://other.org/ns/prod/sa/web'] }));
  // A workload certificate wrongly issued with CA:TRUE mints an admin identity of its trust domain.
  const minter = await makeLeaf(root, {
    uris: [WORKLOAD],
    isCa: true,
    keyUsage: digitalSignature | keyCertSign,
  });
  const minterCa = { ...minter, chainPem: minter.certPem, rootPem: root.rootPem } as TestCa;
  peers.set('minted', await makeLeaf(minterCa, { uris: [ADMIN] }));
  const rootIssuer = { certPem: root.certPem, keyPem: root.keyPem, chainPem: '' };
  const san = (uri: string) => `subjectAltName = URI:${uri}`;
  peers.set(
    'openssl-dsa',
    await opensslLeaf(rootIssuer, {
      key: 'dsa-2048',
      extensions: `basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n${san(WORKLOAD)}`,
    }),
  );
  peers.set(
    'openssl-ca-leaf',
    await opensslLeaf(rootIssuer, {
      extensions: `basicConstraints = critical,CA:TRUE\nkeyUsage = critical,digitalSignature,keyCertSign\n${san(WORKLOAD)}`,
    }),
  );
  peers.set(
    'openssl-two-uris',
    await opensslLeaf(rootIssuer, {
      extensions: `basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nsubjectAltName = URI:${WORKLOAD},URI:${ADMIN}`,
    }),
  );
  diagnostics.subscribe(channels.handshakeFailure, onFailure);
}, 120_000);

afterEach(() => {
  failures.length = 0;
});

afterAll(async () => {
  diagnostics.unsubscribe(channels.handshakeFailure, onFailure);
  for (const server of servers) await close(server);
});

const attack = (
  name: string,
  code: string | undefined,
  rule: string | undefined,
  authorizer: Authorizer,
  versions?: SecureVersion[],
): Attack => ({
  name,
  peer: () => peers.get(name) as Peer,
  code,
  rule,
  authorizer,
  ...(versions ? { versions } : {}),
});

// Where this line's OpenSSL refuses a weak key at its default security level (OpenSSL 3.5 on Node 22
// and later; not OpenSSL 3.0 on Node 20), it refuses the peer during the handshake, before meshless's
// key policy sees it: the refusal is then OpenSSL's own.
const WEAK_CLIENT_CIPHERS = 'DEFAULT:@SECLEVEL=0';
function refusedAs(failure: (typeof failures)[number], code: string, peer: Peer): boolean {
  if (failure.error?.code === code) return true;
  return (
    code === 'ERR_MESHLESS_KEY_WEAK' && opensslRefusesKeyOf(peer) && failure.reason === 'bad_certificate'
  );
}

const ATTACKS: Attack[] = [
  attack('ca-leaf', 'ERR_MESHLESS_SVID_INVALID', 'leaf-is-ca', authorize.id(WORKLOAD)),
  attack('no-key-usage', 'ERR_MESHLESS_SVID_INVALID', 'key-usage-missing', authorize.id(WORKLOAD)),
  // OpenSSL's purpose check for TLS clients refuses this one during the handshake already.
  attack('no-digital-signature', undefined, undefined, authorize.id(WORKLOAD)),
  attack('key-cert-sign', 'ERR_MESHLESS_SVID_INVALID', 'key-usage-key-cert-sign', authorize.id(WORKLOAD)),
  attack('crl-sign', 'ERR_MESHLESS_SVID_INVALID', 'key-usage-crl-sign', authorize.id(WORKLOAD)),
  attack('no-path', 'ERR_MESHLESS_SVID_INVALID', 'root-path', authorize.memberOf(TD)),
  attack('rsa-1024', 'ERR_MESHLESS_KEY_WEAK', undefined, authorize.id(WORKLOAD)),
  attack('other-trust-domain', 'ERR_MESHLESS_PEER_BUNDLE_MISMATCH', 'no-bundle', authorize.any()),
  attack('minted', 'ERR_MESHLESS_SVID_INVALID', 'issuer-is-workload', authorize.id(ADMIN)),
  // DSA has no signature scheme in TLS 1.3: only TLS 1.2 can carry the attack.
  attack('openssl-dsa', 'ERR_MESHLESS_KEY_WEAK', undefined, authorize.id(WORKLOAD), ['TLSv1.2']),
  attack('openssl-ca-leaf', 'ERR_MESHLESS_SVID_INVALID', 'leaf-is-ca', authorize.id(WORKLOAD)),
  attack('openssl-two-uris', 'ERR_MESHLESS_SVID_INVALID', 'uri-san-count', authorize.any()),
];

async function serverFor(authorizer: Authorizer, mode: ServerMode): Promise<number> {
  const ca = root.rootPem + otherRoot.rootPem;
  const source = memorySource(loadMaterial({ ...materialOf(serverPeer), ca }));
  const server = createServer({ source, authorize: authorizer, mode }, (_req, res) => res.end('served'));
  servers.push(server);
  return await listen(server);
}

const CASES = ATTACKS.flatMap((a) =>
  (a.versions ?? VERSIONS).flatMap((version) =>
    (['strict', 'permissive'] as ServerMode[]).map((mode) => ({ ...a, version, mode })),
  ),
);

describe('a peer certificate OpenSSL verifies but the X509-SVID profile or key policy refuses', () => {
  it.each(CASES)(
    '$name is refused, $version, $mode',
    async ({ peer, code, rule, authorizer, version, mode }) => {
      const port = await serverFor(authorize.anyOf(authorizer, authorize.id(WORKLOAD)), mode);
      const as = (p: Peer, session?: Buffer) => ({
        cert: p.chainPem,
        key: p.keyPem,
        ca: root.rootPem,
        maxVersion: version,
        session,
        // The attacker lowers its own OpenSSL security level, so that it can present RSA-1024 on every line.
        ciphers: WEAK_CLIENT_CIPHERS,
      });
      // Positive control: a valid peer is served by the same server.
      const control = await exchange(port, as(valid));
      expect(control.status).toBe(200);

      const refused = await exchange(port, as(peer()));
      expect(refused.status).toBeUndefined();
      const failure = failures.find((f) =>
        code ? refusedAs(f, code, peer()) : f.reason === 'bad_certificate',
      );
      expect(failure, `a handshake failure with ${code ?? "OpenSSL's refusal"}`).toBeDefined();
      if (rule) expect(failure?.error?.context?.rule).toBe(rule);
    },
  );

  it.each(['minted', 'ca-leaf', 'other-trust-domain'])(
    '%s: a session from the refused handshake (openssl s_client -sess_out/-sess_in) gets no answer',
    async (name) => {
      const port = await serverFor(authorize.any(), 'strict');
      const attacker = await sClientSession(peers.get(name) as Peer, root.rootPem);
      try {
        const refused = await attacker.get(port, false);
        expect(refused.status).toBeUndefined();
        // Node flushes the TLS 1.3 tickets after the application saw the handshake, so a refused peer
        // usually leaves with none; whether or not one got out, offering it must not get an answer.
        const resumed = await attacker.get(port, true);
        expect(resumed.status, `session saved: ${refused.sessionSaved}`).toBeUndefined();
      } finally {
        await attacker.close();
      }
    },
  );
});
