// The SPIFFE conformance catalogue's JB group (JWT bundles) and JF group (fetching JWT-SVIDs), named
// by catalogue ID, against the test Workload API server: bundles come from the FetchJWTBundles stream,
// tokens from FetchJWTSVID, and every call is recorded and asserted on. Updates are observed through
// the stream's own 'update' event (each one is a barrier: the stream is ordered), never by sleeping.
import * as grpc from '@grpc/grpc-js';
import { isMeshlessError } from '@meshless/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fetchJwtSvids,
  parseJwtBundle,
  validateJwtSvid,
  type WorkloadApiJwtBundles,
  workloadApiJwtBundles,
} from '../../src/index.js';
import { authority, bundleJson, type TestAuthority, token } from '../support/jwt.js';
import { TestWorkloadApi } from '../support/workload-api-server.js';

const AUDIENCE = 'conformance';
let agent: TestWorkloadApi;
let a: TestAuthority;
let b: TestAuthority;
let c: TestAuthority;
let fed: TestAuthority;
const open: WorkloadApiJwtBundles[] = [];

async function bundles(): Promise<WorkloadApiJwtBundles> {
  const source = await workloadApiJwtBundles({
    address: agent.address,
    startupTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 200 },
  });
  open.push(source);
  return source;
}

/** Pushes bundles and resolves once the source has applied them (the barrier). */
async function push(source: WorkloadApiJwtBundles, set: Record<string, string>): Promise<void> {
  const applied = new Promise<void>((resolve) => source.once('update', resolve));
  agent.respondJwtBundles(set);
  await applied;
}

async function verdict(source: WorkloadApiJwtBundles, jws: string): Promise<string> {
  return validateJwtSvid(jws, { audience: AUDIENCE, bundles: source }).then(
    (svid) => `accepted ${svid.spiffeId}`,
    (error: unknown) =>
      isMeshlessError(error, 'ERR_MESHLESS_JWT_SVID_INVALID')
        ? `rejected ${error.context.rule}`
        : String(error),
  );
}

const ACCEPTED = 'accepted spiffe://example.org/workload';

beforeAll(async () => {
  [a, b, c, fed] = await Promise.all([
    authority('key-a'),
    authority('key-b'),
    authority('key-c'),
    authority('fed'),
  ]);
});

beforeEach(async () => {
  agent = await TestWorkloadApi.start();
});

afterEach(async () => {
  for (const source of open.splice(0)) await source.close();
  await agent.close();
  // EP-2 on the JWT paths: every call of every test carried the security header.
  expect(agent.records.every((record) => record.header === 'true')).toBe(true);
  // Validation is local: the Workload API's ValidateJWTSVID is never delegated to.
  expect(agent.records.filter((record) => record.method === 'ValidateJWTSVID')).toEqual([]);
});

describe('JB: JWT bundles', () => {
  it('JB-1: picks up a key added by a streamed bundle update', async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a]) });
    const source = await bundles();
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
    expect(await verdict(source, await token(b))).toBe('rejected unknown-kid');
    await push(source, { 'example.org': bundleJson([a, b]) });
    expect(await verdict(source, await token(b))).toBe(ACCEPTED);
  });

  it('JB-2: stops accepting a key removed by a streamed bundle update', async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a, b]) });
    const source = await bundles();
    expect(await verdict(source, await token(b))).toBe(ACCEPTED);
    await push(source, { 'example.org': bundleJson([a]) });
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
    expect(await verdict(source, await token(b))).toBe('rejected unknown-kid');
  });

  it('JB-3: stops accepting tokens from a trust domain whose bundle was removed', async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a]), 'fed.example.org': bundleJson([fed]) });
    const source = await bundles();
    const fedToken = await token(fed, { sub: 'spiffe://fed.example.org/w' });
    expect(await verdict(source, fedToken)).toBe('accepted spiffe://fed.example.org/w');
    await push(source, { 'example.org': bundleJson([a]) });
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
    expect(await verdict(source, fedToken)).toBe('rejected no-bundle');
  });

  it('JB-4: selects the verification key by kid among several keys', async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a, b, c]) });
    const source = await bundles();
    expect(await verdict(source, await token(b))).toBe(ACCEPTED);
    // The same signature under the first key's kid does not verify: the kid chose the key.
    expect(await verdict(source, await token(b, { header: { kid: 'key-a' } }))).toBe('rejected signature');
  });

  it('JB-5/x509-svid-use: ignores JWKs whose use is not jwt-svid', async () => {
    const x509Use = await authority('x509-use', 'ES256', 'x509-svid');
    agent.respondJwtBundles({ 'example.org': bundleJson([a, x509Use]) });
    const source = await bundles();
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
    expect(await verdict(source, await token(x509Use))).toBe('rejected unknown-kid');
  });

  it('JB-5/missing-use: ignores JWKs without use in SPIFFE bundle documents (files)', async () => {
    // The Workload API's JWT bundles are plain JWK Sets (SPIRE sends no `use`), so keys without `use`
    // are accepted there; a SPIFFE bundle document (TB §4.2.2) must name the use, so it is enforced here.
    const noUse = await authority('no-use', 'ES256', null);
    const document = parseJwtBundle('example.org', bundleJson([a, noUse]));
    expect(document.keys.map((key) => key.kid)).toEqual(['key-a']);
    const fromWorkloadApi = parseJwtBundle('example.org', bundleJson([a, noUse]), { missingUse: 'accept' });
    expect(fromWorkloadApi.keys.map((key) => key.kid)).toEqual(['key-a', 'no-use']);
  });

  it('JB-6: ignores JWKs with an unknown kty without discarding the rest of the bundle', async () => {
    const unknown = { kty: 'XYZ', kid: 'odd', use: 'jwt-svid', x: 'AAAA' };
    const symmetric = { kty: 'oct', kid: 'secret', use: 'jwt-svid', k: 'c2VjcmV0' };
    agent.respondJwtBundles({ 'example.org': bundleJson([a], [unknown, symmetric]) });
    const source = await bundles();
    expect(source.bundleFor('example.org')?.keys.map((key) => key.kid)).toEqual(['key-a']);
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
  });

  it('JB-7: treats a bundle with empty keys as trust nothing for that trust domain', async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a]), 'fed.example.org': bundleJson([fed]) });
    const source = await bundles();
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
    await push(source, { 'example.org': bundleJson([]), 'fed.example.org': bundleJson([fed]) });
    expect(await verdict(source, await token(fed, { sub: 'spiffe://fed.example.org/w' }))).toBe(
      'accepted spiffe://fed.example.org/w',
    );
    expect(await verdict(source, await token(a))).toBe('rejected unknown-kid');
    expect(await verdict(source, await token(a, { header: { kid: undefined } }))).toBe(
      'rejected unknown-kid',
    );
  });

  it("JB-8: accepts a token from a federated trust domain using that trust domain's bundle", async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a]), 'fed.example.org': bundleJson([fed]) });
    const source = await bundles();
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
    expect(await verdict(source, await token(fed, { sub: 'spiffe://fed.example.org/w' }))).toBe(
      'accepted spiffe://fed.example.org/w',
    );
    // And only that bundle: the federated key does not vouch for the own trust domain.
    expect(await verdict(source, await token(fed))).toBe('rejected unknown-kid');
  });

  it('discards an unreadable bundles response whole and keeps the previous set (barrier after it)', async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a]) });
    const source = await bundles();
    const errors: string[] = [];
    source.on('error', (error) => errors.push(error.code));
    agent.respondJwtBundles({ 'example.org': '{not json', 'fed.example.org': bundleJson([fed]) });
    await push(source, { 'example.org': bundleJson([a, b]) });
    expect(errors).toEqual(['ERR_MESHLESS_JWT_BUNDLE_INVALID']);
    expect(await verdict(source, await token(b))).toBe(ACCEPTED);
  });

  it('withdraws every bundle when the agent answers PERMISSION_DENIED (fail closed)', async () => {
    agent.respondJwtBundles({ 'example.org': bundleJson([a]) });
    const source = await bundles();
    expect(await verdict(source, await token(a))).toBe(ACCEPTED);
    const denied = new Promise((resolve) => source.once('error', resolve));
    agent.answerWith(grpc.status.PERMISSION_DENIED);
    await denied;
    expect(await verdict(source, await token(a))).toBe('rejected no-bundle');
  });
});

describe('JF: fetching JWT-SVIDs', () => {
  const issued = (spiffeId: string, audience: string[]) =>
    token(a, { sub: spiffeId, aud: audience }).then((svid) => ({ spiffe_id: spiffeId, svid }));

  beforeEach(() => {
    agent.jwtSvids = () => ({ status: grpc.status.PERMISSION_DENIED });
  });

  it("JF-1: calls FetchJWTSVID with the requested audience and returns the server's token", async () => {
    const svid = await issued('spiffe://example.org/workload', ['conformance']);
    agent.jwtSvids = () => ({ svids: [svid] });
    const [fetched, ...rest] = await fetchJwtSvids({ address: agent.address, audience: 'conformance' });
    expect(rest).toEqual([]);
    expect(fetched?.token).toBe(svid.svid);
    expect(fetched?.spiffeId.toString()).toBe('spiffe://example.org/workload');
    expect(agent.records.map((r) => [r.method, r.request.audience])).toEqual([
      ['FetchJWTSVID', ['conformance']],
    ]);
  });

  it('JF-2: passes several audiences through unchanged', async () => {
    const svid = await issued('spiffe://example.org/workload', ['b', 'a', 'conformance']);
    agent.jwtSvids = () => ({ svids: [svid] });
    const [fetched] = await fetchJwtSvids({ address: agent.address, audience: ['b', 'a', 'conformance'] });
    expect(fetched?.audience).toEqual(['b', 'a', 'conformance']);
    expect(agent.records[0]?.request.audience).toEqual(['b', 'a', 'conformance']);
  });

  it('JF-3: passes spiffe_id through when one is requested', async () => {
    const admin = await issued('spiffe://example.org/admin', ['conformance']);
    agent.jwtSvids = (request) => ({
      svids: request.spiffe_id === 'spiffe://example.org/admin' ? [admin] : [],
    });
    const [fetched] = await fetchJwtSvids({
      address: agent.address,
      audience: 'conformance',
      spiffeId: 'spiffe://example.org/admin',
    });
    expect(fetched?.spiffeId.toString()).toBe('spiffe://example.org/admin');
    expect(agent.records[0]?.request.spiffe_id).toBe('spiffe://example.org/admin');
  });

  it('JF-4: reports PermissionDenied as an error instead of returning a stale token', async () => {
    const svid = await issued('spiffe://example.org/workload', ['conformance']);
    agent.jwtSvids = () => ({ svids: [svid] });
    await expect(fetchJwtSvids({ address: agent.address, audience: 'conformance' })).resolves.toHaveLength(1);
    agent.jwtSvids = () => ({ status: grpc.status.PERMISSION_DENIED });
    const error = await fetchJwtSvids({ address: agent.address, audience: 'conformance' }).catch(
      (e: unknown) => e,
    );
    expect(isMeshlessError(error, 'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED')).toBe(true);
  });
});
