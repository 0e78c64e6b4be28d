// JWT-SVIDs beyond the catalogue: bundle files for setups without SPIRE, the peer identity that lets
// the usual authorizers decide on token callers, and the client side (a token per audience, cached and
// refreshed before expiry, attached to outgoing requests).

import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { authorize, isMeshlessError } from '@meshless/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  jwtBundleFileSource,
  jwtSvidIdentity,
  jwtSvidSource,
  validateJwtSvid,
  withJwtSvid,
} from '../src/index.js';
import { authority, bundleJson, type TestAuthority, token } from './support/jwt.js';
import { TestWorkloadApi } from './support/workload-api-server.js';

let dir: string;
let a: TestAuthority;
let b: TestAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshless-jwt-'));
  [a, b] = await Promise.all([authority('key-a'), authority('key-b')]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

describe('jwtBundleFileSource', () => {
  it('reads SPIFFE bundle JSON, ignoring X.509 keys and keys without use', async () => {
    const file = join(dir, 'bundle.json');
    const x509Key = { ...b.jwk, kid: 'x509', use: 'x509-svid' };
    const { use: _use, ...noUse } = { ...b.jwk, kid: 'no-use' };
    await writeFile(file, JSON.stringify({ keys: [a.jwk, x509Key, noUse], spiffe_sequence: 1 }));
    const bundles = await jwtBundleFileSource({ files: { 'example.org': file }, refreshIntervalMs: 0 });
    expect(bundles.bundleFor('example.org')?.keys.map((key) => key.kid)).toEqual(['key-a']);
    const svid = await validateJwtSvid(await token(a, { aud: 'orders' }), { audience: 'orders', bundles });
    expect(svid.spiffeId.toString()).toBe('spiffe://example.org/workload');
  });

  it('reloads a replaced file, and keeps the last good bundles when the new file is bad', async () => {
    const file = join(dir, 'rotating.json');
    await writeFile(file, bundleJson([a]));
    const bundles = await jwtBundleFileSource({ files: { 'example.org': file }, refreshIntervalMs: 0 });
    await writeAtomically(file, bundleJson([a, b]));
    await bundles.reload();
    expect(bundles.bundleFor('example.org')?.keys.map((key) => key.kid)).toEqual(['key-a', 'key-b']);
    await writeAtomically(file, '{"keys": ');
    const error = await bundles.reload().catch((e: unknown) => e);
    expect(isMeshlessError(error, 'ERR_MESHLESS_JWT_BUNDLE_INVALID')).toBe(true);
    expect((error as { context: { file: string; rule: string } }).context).toMatchObject({
      file,
      rule: 'json',
    });
    expect(bundles.bundleFor('example.org')?.keys.map((key) => key.kid)).toEqual(['key-a', 'key-b']);
  });

  it('refuses to start on a missing file, naming it', async () => {
    const file = join(dir, 'missing.json');
    const error = await jwtBundleFileSource({ files: { 'example.org': file } }).catch((e: unknown) => e);
    expect(isMeshlessError(error, 'ERR_MESHLESS_JWT_BUNDLE_INVALID')).toBe(true);
    expect((error as { context: { file: string } }).context.file).toBe(file);
  });
});

describe('jwtSvidIdentity', () => {
  it('gives a PeerIdentity the usual authorizers decide on, marked as from a JWT-SVID', async () => {
    const bundles = await jwtBundleFileSource({
      files: { 'example.org': await bundleFile([a]) },
      refreshIntervalMs: 0,
    });
    const jws = await token(a, { sub: 'spiffe://example.org/ns/prod/sa/web', aud: 'orders' });
    const peer = jwtSvidIdentity(await validateJwtSvid(jws, { audience: 'orders', bundles }));
    expect(peer.credential).toBe('jwt-svid');
    expect(peer.uris).toEqual(['spiffe://example.org/ns/prod/sa/web']);
    expect(peer.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(authorize.pattern('spiffe://example.org/ns/*/sa/web')(peer).allowed).toBe(true);
    expect(authorize.id('spiffe://example.org/ns/prod/sa/admin')(peer).allowed).toBe(false);
  });
});

async function bundleFile(authorities: TestAuthority[]): Promise<string> {
  const file = join(dir, `b-${authorities.map((x) => x.kid).join('-')}.json`);
  await writeFile(file, bundleJson(authorities));
  return file;
}

describe('jwtSvidSource and withJwtSvid', () => {
  let agent: TestWorkloadApi;
  let issued = 0;

  beforeEach(async () => {
    agent = await TestWorkloadApi.start();
    issued = 0;
    agent.jwtSvids = () => ({ svids: [] });
  });

  afterEach(async () => {
    await agent.close();
  });

  const grant = (ttlSeconds: number) => {
    agent.jwtSvids = () => ({ svids: [] });
    return async () => {
      issued++;
      const svid = await token(a, { aud: 'orders', expIn: ttlSeconds, header: { kid: a.kid } });
      agent.jwtSvids = () => ({ svids: [{ spiffe_id: 'spiffe://example.org/workload', svid }] });
    };
  };

  it('caches the token, fetches again past half its lifetime, and never serves it after PERMISSION_DENIED', async () => {
    let clock = Date.now();
    const source = jwtSvidSource({ address: agent.address, audience: 'orders', now: () => new Date(clock) });
    await grant(600)();
    const first = await source.svid();
    expect(await source.svid()).toBe(first);
    expect(agent.records.filter((r) => r.method === 'FetchJWTSVID')).toHaveLength(1);
    await grant(600)();
    clock += 301_000;
    const second = await source.svid();
    expect(second.token).not.toBe(first.token);
    expect(agent.records.filter((r) => r.method === 'FetchJWTSVID')).toHaveLength(2);
    agent.jwtSvids = () => ({ status: grpc.status.PERMISSION_DENIED });
    clock += 301_000;
    const error = await source.svid().catch((e: unknown) => e);
    expect(isMeshlessError(error, 'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED')).toBe(true);
    expect(issued).toBe(2);
  });

  it('attaches Authorization: Bearer with the JWT-SVID to requests over a real socket', async () => {
    await grant(600)();
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const source = jwtSvidSource({ address: agent.address, audience: 'orders' });
      const fetchWithToken = withJwtSvid(fetch, source);
      expect(await (await fetchWithToken(url, { headers: { 'x-trace': '1' } })).text()).toBe('ok');
      const svid = await source.svid();
      expect(seen[0]?.authorization).toBe(`Bearer ${svid.token}`);
      expect(seen[0]?.['x-trace']).toBe('1');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
