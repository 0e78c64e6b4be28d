// The SPIFFE conformance catalogue's EP (Workload Endpoint), WA (Workload API client), XS (X.509-SVID
// source) and HX (hardening) groups, named by catalogue ID, against workloadApiSource and a meshless
// server on it. The test Workload API records every call; updates are proven applied (or ignored) with a
// barrier: a bad response, then a valid one, and the valid one's 'update' shows the bad one was handled.
import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { isMeshlessError, type TlsMaterial } from '@meshless/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CertSpec,
  keyUsage,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  type TestCa,
} from '../../../../test/support/certs.js';
import {
  fetchJwtSvids,
  SPIFFE_ENDPOINT_SOCKET,
  type WorkloadApiSource,
  workloadApiJwtBundles,
  workloadApiSource,
  type X509SvidResponseMessage,
} from '../../src/index.js';
import { nextEvent, until } from '../support/events.js';
import { authority, bundleJson } from '../support/jwt.js';
import { responseOf, type TestSvid, TestWorkloadApi } from '../support/workload-api-server.js';
import { type Credential, type Harness, presented, probe, startHarness } from './support/x509-harness.js';

const DAY = 24 * 60 * 60 * 1000;
let root: TestCa;
let root2: TestCa;
let agent: TestWorkloadApi;
let probeCert: Credential;
const cleanup: (() => Promise<void>)[] = [];

async function svid(
  spiffeId: string,
  issuer: TestCa = root,
  spec: CertSpec = {},
  caPem = root.rootPem,
): Promise<TestSvid> {
  const leaf = await makeLeaf(issuer, { uris: [spiffeId], ...spec });
  return { spiffeId, chainPem: leaf.chainPem, keyPem: leaf.keyPem, caPem };
}

async function harness(): Promise<Harness> {
  const started = await startHarness(agent);
  cleanup.push(() => started.close());
  return started;
}

async function source(options: { address?: string; backoff?: { initialMs: number; maxMs: number } } = {}) {
  const opened = await workloadApiSource({
    address: agent.address,
    startupTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  opened.on('error', () => {});
  cleanup.push(() => opened.close());
  return opened;
}

const idOf = (material: TlsMaterial) => material.identity.spiffeId?.toString();

/** Records every update of `of` from now on, to show that a bad response never became current. */
function updates(of: WorkloadApiSource): TlsMaterial[] {
  const seen: TlsMaterial[] = [];
  of.on('update', (material) => seen.push(material));
  return seen;
}

beforeAll(async () => {
  root = await makeRoot({ trustDomain: 'example.org' });
  root2 = await makeRoot({ trustDomain: 'example.org' });
  probeCert = await makeLeaf(root, { uris: ['spiffe://example.org/probe'] });
});

beforeEach(async () => {
  agent = await TestWorkloadApi.start();
});

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
  await agent.close();
});

describe('EP: Workload Endpoint', () => {
  it('EP-1: discovers the endpoint from SPIFFE_ENDPOINT_SOCKET when not configured', async () => {
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    const saved = process.env[SPIFFE_ENDPOINT_SOCKET];
    process.env[SPIFFE_ENDPOINT_SOCKET] = agent.address;
    try {
      const discovered = await workloadApiSource({ startupTimeoutMs: 5000 });
      cleanup.push(() => discovered.close());
      expect(idOf(discovered.current())).toBe('spiffe://example.org/a');
      expect(agent.records).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env[SPIFFE_ENDPOINT_SOCKET];
      else process.env[SPIFFE_ENDPOINT_SOCKET] = saved;
    }
  });

  it('EP-2: sends workload.spiffe.io: true on every RPC (X.509, JWT bundles, JWT fetch)', async () => {
    const jwtKey = await authority('k');
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    agent.respondJwtBundles({ 'example.org': bundleJson([jwtKey]) });
    agent.jwtSvids = () => ({ status: grpc.status.PERMISSION_DENIED });
    await source();
    const bundles = await workloadApiJwtBundles({ address: agent.address, startupTimeoutMs: 5000 });
    cleanup.push(() => bundles.close());
    await fetchJwtSvids({ address: agent.address, audience: 'conformance' }).catch(() => undefined);
    expect(new Set(agent.records.map((r) => r.method))).toEqual(
      new Set(['FetchX509SVID', 'FetchJWTBundles', 'FetchJWTSVID']),
    );
    expect(agent.records.map((r) => r.header)).toEqual(agent.records.map(() => 'true'));
  });

  it('EP-3: supports a tcp://127.0.0.1:<port> endpoint', async () => {
    const tcp = await TestWorkloadApi.start({ tcp: true });
    try {
      tcp.respond({ svids: [await svid('spiffe://example.org/tcp')] });
      expect(tcp.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const opened = await source({ address: tcp.address });
      expect(idOf(opened.current())).toBe('spiffe://example.org/tcp');
    } finally {
      for (const close of cleanup.splice(0)) await close();
      await tcp.close();
    }
  });

  it.each([
    ['authority', (a: TestWorkloadApi) => a.address.replace('unix://', 'unix://host')],
    ['tcp-path', () => 'tcp://127.0.0.1:8081/agent'],
  ])('EP-4/%s: rejects an endpoint URI with an authority or a path on tcp://', async (_case, address) => {
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    // Positive control: the socket itself works.
    await source();
    const calls = agent.records.length;
    const error = await workloadApiSource({ address: address(agent), startupTimeoutMs: 2000 }).catch(
      (e) => e,
    );
    expect(isMeshlessError(error, 'ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID')).toBe(true);
    expect(agent.records).toHaveLength(calls);
  });

  it.each([
    ['EP-5', grpc.status.UNAVAILABLE],
    ['EP-6', grpc.status.PERMISSION_DENIED],
  ])('%s: retries with backoff after the status', async (_id, code) => {
    agent.answerWith(code);
    const first = await svid('spiffe://example.org/a');
    const opening = source({ backoff: { initialMs: 100, maxMs: 1000 } });
    await until(() => agent.records.length >= 3, 'three refused calls');
    agent.respond({ svids: [first] });
    expect(idOf((await opening).current())).toBe('spiffe://example.org/a');
    const refused = agent.records.filter((r) => r.status === code);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    const span = (agent.records.at(-1)?.at ?? 0) - (agent.records[0]?.at ?? 0);
    // No tight loop: fewer than 20 calls per second (at least 50 ms between attempts on average).
    expect(span / (agent.records.length - 1)).toBeGreaterThanOrEqual(50);
  });

  it('EP-7: does not retry after InvalidArgument (at most 2 calls per method)', async () => {
    agent.answerWith(grpc.status.INVALID_ARGUMENT);
    const x509 = await workloadApiSource({ address: agent.address, startupTimeoutMs: 5000 }).catch((e) => e);
    const bundles = await workloadApiJwtBundles({ address: agent.address, startupTimeoutMs: 5000 }).catch(
      (e) => e,
    );
    const jwt = await fetchJwtSvids({ address: agent.address, audience: 'conformance' }).catch((e) => e);
    for (const error of [x509, bundles, jwt])
      expect(isMeshlessError(error, 'ERR_MESHLESS_WORKLOAD_API_REFUSED')).toBe(true);
    // The catalogue's own method for EP-7: a window in which no retry may come (retries would come
    // after 50-200 ms here), then count per method.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const method of ['FetchX509SVID', 'FetchJWTBundles', 'FetchJWTSVID']) {
      expect(agent.records.filter((r) => r.method === method).length).toBeLessThanOrEqual(2);
    }
  });

  it('EP-8: retries when the endpoint is not reachable yet', async () => {
    await agent.stop();
    const opening = source();
    // The catalogue's method: the socket appears only after the client started (2 s there, 300 ms here).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await agent.restart();
    agent.respond({ svids: [await svid('spiffe://example.org/late')] });
    expect(idOf((await opening).current())).toBe('spiffe://example.org/late');
  });
});

describe('WA: Workload API client behaviour', () => {
  it('WA-1: re-establishes the stream after the server closes it', async () => {
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    const h = await harness();
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/a');
    const next = nextEvent(h.source, 'update');
    agent.answerWith(grpc.status.UNAVAILABLE);
    agent.respond({ svids: [await svid('spiffe://example.org/b')] });
    await next;
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/b');
  });

  const variants: [string, (m: X509SvidResponseMessage) => X509SvidResponseMessage][] = [
    ['svids', (m) => ({ ...m, svids: [] })],
    ['spiffe_id', (m) => ({ ...m, svids: m.svids.map((s) => ({ ...s, spiffe_id: '' })) })],
    ['x509_svid', (m) => ({ ...m, svids: m.svids.map((s) => ({ ...s, x509_svid: Buffer.alloc(0) })) })],
    [
      'x509_svid_key',
      (m) => ({ ...m, svids: m.svids.map((s) => ({ ...s, x509_svid_key: Buffer.alloc(0) })) }),
    ],
    ['bundle', (m) => ({ ...m, svids: m.svids.map((s) => ({ ...s, bundle: Buffer.alloc(0) })) })],
  ];

  it.each(variants)('WA-2/%s: discards a response whose mandatory field is empty', async (_field, empty) => {
    const a = await svid('spiffe://example.org/a');
    agent.respond({ svids: [a] });
    const h = await harness();
    const seen = updates(h.source);
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/a');
    agent.respond(empty(responseOf({ svids: [await svid('spiffe://example.org/bad')] })));
    // A is still served after the bad response, and the SDK never stopped serving.
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/a');
    const barrier = nextEvent(h.source, 'update');
    agent.respond({ svids: [await svid('spiffe://example.org/b')] });
    await barrier;
    expect(seen.map(idOf)).toEqual(['spiffe://example.org/b']);
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/b');
  });

  it('WA-3: uses the first SVID in the response as the default identity', async () => {
    const a = await svid('spiffe://example.org/a');
    const b = await svid('spiffe://example.org/b');
    agent.respond({ svids: [a, b] });
    const h = await harness();
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/a');
    const next = nextEvent(h.source, 'update');
    agent.respond({ svids: [b, a] });
    await next;
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/b');
  });

  it('WA-4: stops using SVIDs after the stream returns PermissionDenied', async () => {
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    const h = await harness();
    expect(await probe(h.port, probeCert, root.rootPem)).toBe('accepted spiffe://example.org/probe');
    const withdrawn = nextEvent(h.source, 'withdrawn');
    agent.answerWith(grpc.status.PERMISSION_DENIED);
    await withdrawn;
    expect(await probe(h.port, probeCert, root.rootPem)).toMatch(/^rejected /);
  });
});

describe('XS: X.509-SVID source', () => {
  it('XS-1: presents the X.509-SVID received from FetchX509SVID', async () => {
    agent.respond({ svids: [await svid('spiffe://example.org/issued')] });
    const h = await harness();
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/issued');
  });

  it('XS-2: presents the full chain, leaf first, including intermediates', async () => {
    const intermediate = await makeIntermediate(root);
    agent.respond({ svids: [await svid('spiffe://example.org/deep', intermediate)] });
    const h = await harness();
    // Verified against the root alone, so the intermediate must come from the harness.
    expect(await presented(h.port, probeCert, root.rootPem)).toEqual({
      uri: 'spiffe://example.org/deep',
      chain: 3,
    });
  });

  it('XS-3: uses a rotated SVID for new connections', async () => {
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    const h = await harness();
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/a');
    const next = nextEvent(h.source, 'update');
    agent.respond({ svids: [await svid('spiffe://example.org/b')] });
    await next;
    expect((await presented(h.port, probeCert, root.rootPem)).uri).toBe('spiffe://example.org/b');
  });

  it('XS-4: accepts a bundle of several concatenated CA certificates and trusts each', async () => {
    agent.respond({ svids: [await svid('spiffe://example.org/a', root, {}, root.rootPem + root2.rootPem)] });
    const h = await harness();
    const fromRoot2 = await makeLeaf(root2, { uris: ['spiffe://example.org/from-ca2'] });
    expect(await probe(h.port, probeCert, root.rootPem)).toBe('accepted spiffe://example.org/probe');
    expect(await probe(h.port, fromRoot2, root.rootPem)).toBe('accepted spiffe://example.org/from-ca2');
  });

  it('XS-5: stops trusting a CA once it is removed from the bundle', async () => {
    agent.respond({ svids: [await svid('spiffe://example.org/a', root, {}, root.rootPem + root2.rootPem)] });
    const h = await harness();
    const fromRoot2 = await makeLeaf(root2, { uris: ['spiffe://example.org/from-ca2'] });
    expect(await probe(h.port, fromRoot2, root.rootPem)).toBe('accepted spiffe://example.org/from-ca2');
    const barrier = nextEvent(h.source, 'update');
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    await barrier;
    expect(await probe(h.port, probeCert, root.rootPem)).toBe('accepted spiffe://example.org/probe');
    expect(await probe(h.port, fromRoot2, root.rootPem)).toMatch(/^rejected /);
  });
});

describe('HX: hardening (the SDK ignores a bad X.509-SVID from the Workload API)', () => {
  const { digitalSignature, keyCertSign } = keyUsage;
  const mutate = (svidOf: TestSvid, change: (m: X509SvidResponseMessage) => void) => {
    const message = responseOf({ svids: [svidOf] });
    change(message);
    return message;
  };
  const cases: [string, string, () => Promise<X509SvidResponseMessage>][] = [
    [
      'HX-1',
      'with an invalid signature',
      async () =>
        mutate(await svid('spiffe://example.org/bad'), (m) => {
          const der = m.svids[0]!.x509_svid;
          der[der.length - 8] = (der[der.length - 8] as number) ^ 0xff;
        }),
    ],
    [
      'HX-2',
      'that does not chain to the bundle in the same response',
      async () => responseOf({ svids: [await svid('spiffe://example.org/bad', root2)] }),
    ],
    [
      'HX-3',
      'that is expired',
      async () =>
        responseOf({
          svids: [
            await svid('spiffe://example.org/bad', root, {
              notBefore: new Date(Date.now() - 2 * DAY),
              notAfter: new Date(Date.now() - DAY),
            }),
          ],
        }),
    ],
    [
      'HX-4',
      'whose leaf has cA=true',
      async () =>
        responseOf({
          svids: [await svid('spiffe://example.org/bad', root, { isCa: true, keyUsage: digitalSignature })],
        }),
    ],
    [
      'HX-5',
      'whose leaf has keyCertSign',
      async () =>
        responseOf({
          svids: [await svid('spiffe://example.org/bad', root, { keyUsage: digitalSignature | keyCertSign })],
        }),
    ],
    [
      'HX-6',
      'with more than one URI SAN',
      async () =>
        responseOf({
          svids: [
            await svid('spiffe://example.org/bad', root, {
              uris: ['spiffe://example.org/bad', 'spiffe://example.org/b2'],
            }),
          ],
        }),
    ],
    [
      'HX-7',
      'with a non-spiffe:// URI SAN',
      async () => {
        const leaf = await makeLeaf(root, { uris: ['https://example.org/bad'] });
        return responseOf({
          svids: [
            {
              spiffeId: 'spiffe://example.org/bad',
              chainPem: leaf.chainPem,
              keyPem: leaf.keyPem,
              caPem: root.rootPem,
            },
          ],
        });
      },
    ],
    [
      'HX-8',
      'whose private key does not match the certificate',
      async () => {
        const other = await makeLeaf(root);
        return mutate(await svid('spiffe://example.org/bad'), (m) => {
          m.svids[0]!.x509_svid_key = createPrivateKey(other.keyPem).export({ type: 'pkcs8', format: 'der' });
        });
      },
    ],
    [
      'HX-9',
      "whose spiffe_id field differs from the certificate's URI SAN",
      async () =>
        mutate(await svid('spiffe://example.org/bad'), (m) => {
          m.svids[0]!.spiffe_id = 'spiffe://example.org/claimed';
        }),
    ],
  ];

  it.each(cases)('%s: ignores a Workload API X.509-SVID %s', async (_id, _what, bad) => {
    agent.respond({ svids: [await svid('spiffe://example.org/a')] });
    const opened = await source();
    const seen = updates(opened);
    agent.respond(await bad());
    const barrier = nextEvent(opened, 'update');
    agent.respond({ svids: [await svid('spiffe://example.org/b')] });
    await barrier;
    // The bad SVID was processed before the barrier (the stream is ordered) and never became current.
    expect(seen.map(idOf)).toEqual(['spiffe://example.org/b']);
  });
});
