// The SPIFFE conformance catalogue's XV (peer X509-SVID validation) and XF (federation) groups, in both
// roles: `server` (a client connects to the meshless server fed by workloadApiSource, which must answer
// with the client's SPIFFE ID or refuse) and `client` (the meshless client, on the same source, dials a
// TLS server presenting the test certificate). Each test is named by catalogue ID and role, and each
// negative one first shows the valid peer accepted by the same harness (the positive control).
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CertSpec,
  keyUsage,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  type TestCa,
} from '../../../../test/support/certs.js';
import { nextEvent } from '../support/events.js';
import { TestWorkloadApi } from '../support/workload-api-server.js';
import {
  type Credential,
  dial,
  type Harness,
  probe,
  startHarness,
  startPeerServer,
} from './support/x509-harness.js';

const DAY = 24 * 60 * 60 * 1000;
const HARNESS_ID = 'spiffe://example.org/harness';
let root: TestCa;
let otherRoot: TestCa;
let fedRoot: TestCa;
let agent: TestWorkloadApi;
let harness: Harness;
let valid: Credential;
let validFed: Credential;

type Role = 'server' | 'client';

/** The verdict of the meshless side on a peer presenting `credential`, in `role`. */
async function verdict(role: Role, credential: Credential): Promise<string> {
  if (role === 'server') return probe(harness.port, credential, root.rootPem);
  const peer = await startPeerServer(credential);
  try {
    return await dial(harness.source, peer.port);
  } finally {
    await peer.close();
  }
}

async function leaf(issuer: TestCa, spec: CertSpec): Promise<Credential> {
  return makeLeaf(issuer, spec);
}

/** Serves the harness its SVID, with the federated bundle of fed.example.org unless told otherwise. */
async function serveHarness(federated = true): Promise<void> {
  const svid = await makeLeaf(root, { uris: [HARNESS_ID] });
  agent.respond({
    svids: [{ spiffeId: HARNESS_ID, chainPem: svid.chainPem, keyPem: svid.keyPem, caPem: root.rootPem }],
    ...(federated ? { federatedBundles: { 'fed.example.org': fedRoot.rootPem } } : {}),
  });
}

beforeAll(async () => {
  root = await makeRoot({ trustDomain: 'example.org' });
  otherRoot = await makeRoot({ trustDomain: 'example.org' });
  fedRoot = await makeRoot({ trustDomain: 'fed.example.org' });
  agent = await TestWorkloadApi.start();
  await serveHarness();
  harness = await startHarness(agent);
  valid = await leaf(root, { uris: ['spiffe://example.org/peer'] });
  validFed = await leaf(fedRoot, { uris: ['spiffe://fed.example.org/peer'] });
});

afterAll(async () => {
  await harness?.close();
  await agent?.close();
});

const past = { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) };
const future = { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) };
const { digitalSignature, keyCertSign, cRLSign } = keyUsage;

// [ID, requirement, the peer certificate, the SPIFFE ID an accepting harness reports]
const ACCEPTED: [string, string, () => Promise<Credential>, string][] = [
  ['XV-1', 'accepts a valid peer SVID', async () => valid, 'spiffe://example.org/peer'],
  [
    'XV-2',
    'accepts a peer SVID chained through an intermediate',
    async () => leaf(await makeIntermediate(root), { uris: ['spiffe://example.org/via-intermediate'] }),
    'spiffe://example.org/via-intermediate',
  ],
  [
    'XV-3',
    'accepts a peer SVID that also carries DNS SANs',
    () => leaf(root, { uris: ['spiffe://example.org/dns'], dnsNames: ['peer.example.org'] }),
    'spiffe://example.org/dns',
  ],
  [
    'XV-4',
    'accepts a peer SVID with an empty Subject and a critical URI SAN',
    () => leaf(root, { subject: '', sanCritical: true, uris: ['spiffe://example.org/no-subject'] }),
    'spiffe://example.org/no-subject',
  ],
];

// [ID, requirement, the peer certificate]
const REJECTED: [string, string, () => Promise<Credential>][] = [
  [
    'XV-5',
    'rejects a peer chaining to an untrusted CA',
    () => leaf(otherRoot, { uris: ['spiffe://example.org/x'] }),
  ],
  [
    'XV-6',
    'rejects an expired peer certificate',
    () => leaf(root, { uris: ['spiffe://example.org/x'], ...past }),
  ],
  [
    'XV-7',
    'rejects a not-yet-valid peer certificate',
    () => leaf(root, { uris: ['spiffe://example.org/x'], ...future }),
  ],
  [
    'XV-8',
    'rejects a peer leaf with cA=true',
    () => leaf(root, { uris: ['spiffe://example.org/x'], isCa: true, keyUsage: digitalSignature }),
  ],
  [
    'XV-9',
    'rejects a peer leaf with keyCertSign',
    () => leaf(root, { uris: ['spiffe://example.org/x'], keyUsage: digitalSignature | keyCertSign }),
  ],
  [
    'XV-10',
    'rejects a peer leaf with cRLSign',
    () => leaf(root, { uris: ['spiffe://example.org/x'], keyUsage: digitalSignature | cRLSign }),
  ],
  [
    'XV-11',
    'rejects a peer with more than one URI SAN',
    () => leaf(root, { uris: ['spiffe://example.org/x', 'spiffe://example.org/y'] }),
  ],
  [
    'XV-12',
    'rejects a peer without a URI SAN',
    () => leaf(root, { uris: [], dnsNames: ['peer.example.org'] }),
  ],
  [
    'XV-13',
    'rejects a peer URI SAN that is not spiffe://',
    () => leaf(root, { uris: ['https://example.org/x'] }),
  ],
  ['XV-14', 'rejects a peer SPIFFE ID without a path', () => leaf(root, { uris: ['spiffe://example.org'] })],
  [
    'XV-15',
    'rejects a peer whose trust domain has no bundle, though its chain verifies against another one',
    () => leaf(root, { uris: ['spiffe://other.example.org/x'] }),
  ],
];

describe.each(['server', 'client'] as Role[])('XV: peer X509-SVID validation, as %s', (role) => {
  it.each(ACCEPTED)(`%s/${role}: %s`, async (_id, _what, make, expected) => {
    expect(await verdict(role, await make())).toBe(`accepted ${expected}`);
  });

  it.each(REJECTED)(`%s/${role}: %s`, async (_id, _what, make) => {
    const peer = await make();
    expect(await verdict(role, valid)).toBe('accepted spiffe://example.org/peer');
    expect(await verdict(role, peer)).toMatch(/^rejected /);
  });
});

describe.each(['server', 'client'] as Role[])('XF: federation, as %s', (role) => {
  it(`XF-1/${role}: accepts a peer of a federated trust domain using federated_bundles`, async () => {
    expect(await verdict(role, validFed)).toBe('accepted spiffe://fed.example.org/peer');
  });

  it(`XF-2/${role}: rejects a peer claiming trust domain B whose chain only verifies against A's bundle`, async () => {
    const claimsFed = await leaf(root, { uris: ['spiffe://fed.example.org/impostor'] });
    const claimsOwn = await leaf(fedRoot, { uris: ['spiffe://example.org/impostor'] });
    expect(await verdict(role, validFed)).toBe('accepted spiffe://fed.example.org/peer');
    expect(await verdict(role, valid)).toBe('accepted spiffe://example.org/peer');
    expect(await verdict(role, claimsFed)).toMatch(/^rejected /);
    expect(await verdict(role, claimsOwn)).toMatch(/^rejected /);
  });
});

describe('XF-3: stops trusting a federated trust domain when a later response omits it', () => {
  it.each(['server', 'client'] as Role[])('XF-3/%s', async (role) => {
    expect(await verdict(role, validFed)).toBe('accepted spiffe://fed.example.org/peer');
    // The barrier: the response without federated_bundles has been applied once its update is seen.
    const applied = nextEvent(harness.source, 'update');
    await serveHarness(false);
    await applied;
    try {
      expect(await verdict(role, valid)).toBe('accepted spiffe://example.org/peer');
      expect(await verdict(role, validFed)).toMatch(/^rejected /);
    } finally {
      const restored = nextEvent(harness.source, 'update');
      await serveHarness(true);
      await restored;
    }
  });
});

// Keeps grpc imported for readers following the Workload API status codes used across this suite.
void grpc;
