// The SPIFFE conformance catalogue's ID group: SPIFFE ID parsing, as the `sub` of validly signed
// JWT-SVIDs (every case) and, sampled, as the URI SAN of peer X.509-SVIDs (server role). Rejections are
// asserted to come from the ID itself (rule `sub`), not from a missing bundle.
import { isMeshlessError } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, type TestCa } from '../../../../test/support/certs.js';
import { jwtBundleSet, parseJwtBundle, validateJwtSvid } from '../../src/index.js';
import type { JwtBundleSource } from '../../src/jwt/bundle-source.js';
import { authority, bundleJson, type TestAuthority, token } from '../support/jwt.js';
import { TestWorkloadApi } from '../support/workload-api-server.js';
import { type Harness, probe, startHarness } from './support/x509-harness.js';

const LONG = `spiffe://example.org/${'a'.repeat(2048 - 'spiffe://example.org/'.length)}`;
const INVALID: [string, string][] = [
  ['empty-trust-domain', 'spiffe:///a'],
  ['port', 'spiffe://example.org:8080/a'],
  ['userinfo', 'spiffe://u@example.org/a'],
  ['query', 'spiffe://example.org/a?x=1'],
  ['fragment', 'spiffe://example.org/a#f'],
  ['percent-encoded', 'spiffe://example.org/%41'],
  ['empty-segment', 'spiffe://example.org/a//b'],
  ['dot-segment', 'spiffe://example.org/a/./b'],
  ['dot-dot-segment', 'spiffe://example.org/a/../b'],
  ['trailing-slash', 'spiffe://example.org/a/'],
  ['path-character', 'spiffe://example.org/a!b'],
  ['trust-domain-character', 'spiffe://t$d/a'],
];
const VALID: [string, string][] = [
  ['path-characters', 'spiffe://example.org/Mixed.Case-_x/y.z'],
  ['trust-domain-underscore-digits', 'spiffe://td_01.example9.org/a'],
  ['ipv4-like-trust-domain', 'spiffe://192.168.0.1/a'],
  ['2048-bytes', LONG],
];

let key: TestAuthority;
let bundles: JwtBundleSource;

beforeAll(async () => {
  key = await authority('id-key');
  const trustDomains = ['example.org', 'td_01.example9.org', '192.168.0.1'];
  bundles = jwtBundleSet(trustDomains.map((td) => parseJwtBundle(td, bundleJson([key]))));
});

describe('ID: SPIFFE ID parsing, as JWT-SVID sub', () => {
  it.each(INVALID)('ID-1/%s: rejects %s', async (_case, sub) => {
    await expect(
      validateJwtSvid(await token(key), { audience: 'conformance', bundles }),
    ).resolves.toBeDefined();
    const error = await validateJwtSvid(await token(key, { sub }), {
      audience: 'conformance',
      bundles,
    }).catch((e: unknown) => e);
    expect(isMeshlessError(error, 'ERR_MESHLESS_JWT_SVID_INVALID')).toBe(true);
    expect((error as { context: { rule: string } }).context.rule).toBe('sub');
  });

  it.each(VALID)('ID-2/%s: accepts the valid edge case', async (_case, sub) => {
    const svid = await validateJwtSvid(await token(key, { sub }), { audience: 'conformance', bundles });
    expect(svid.spiffeId.toString()).toBe(sub);
  });
});

describe('ID: SPIFFE ID parsing, sampled as peer URI SANs (server role)', () => {
  let root: TestCa;
  let agent: TestWorkloadApi;
  let harness: Harness;

  beforeAll(async () => {
    root = await makeRoot({ trustDomain: 'example.org' });
    agent = await TestWorkloadApi.start();
    const own = await makeLeaf(root, { uris: ['spiffe://example.org/harness'] });
    agent.respond({ svids: [{ spiffeId: 'spiffe://example.org/harness', ...own, caPem: root.rootPem }] });
    harness = await startHarness(agent);
  });

  afterAll(async () => {
    await harness?.close();
    await agent?.close();
  });

  const sampledInvalid = INVALID.filter(([name]) =>
    ['userinfo', 'percent-encoded', 'dot-dot-segment', 'trailing-slash', 'empty-segment'].includes(name),
  );

  it.each(sampledInvalid)('ID-1/%s/x509: rejects %s', async (_case, uri) => {
    const valid = await makeLeaf(root, { uris: ['spiffe://example.org/ok'] });
    expect(await probe(harness.port, valid, root.rootPem)).toBe('accepted spiffe://example.org/ok');
    expect(await probe(harness.port, await makeLeaf(root, { uris: [uri] }), root.rootPem)).toMatch(
      /^rejected /,
    );
  });

  it('ID-2/path-characters/x509: accepts the valid edge case', async () => {
    const uri = 'spiffe://example.org/Mixed.Case-_x/y.z';
    expect(await probe(harness.port, await makeLeaf(root, { uris: [uri] }), root.rootPem)).toBe(
      `accepted ${uri}`,
    );
  });
});
