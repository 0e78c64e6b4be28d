// The conformance harness driven through the harness contract's own protocol, against the test
// Workload API server (standing in for the suite's mock): readiness lines on stdout, the X.509 port's
// peer-ID line, and the control port's JSON endpoints with their ok / rejected / error answers.
import http from 'node:http';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeerServer } from '../../../packages/spiffe/test/conformance/support/x509-harness.js';
import {
  authority,
  bundleJson,
  type TestAuthority,
  token,
} from '../../../packages/spiffe/test/support/jwt.js';
import { TestWorkloadApi } from '../../../packages/spiffe/test/support/workload-api-server.js';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { startHarness } from '../src/harness.mjs';

const HARNESS_ID = 'spiffe://example.org/harness';
let root: TestCa;
let key: TestAuthority;
let agent: TestWorkloadApi;
let harness: Awaited<ReturnType<typeof startHarness>>;
let lines: string[];
let savedSocket: string | undefined;

beforeAll(async () => {
  root = await makeRoot({ trustDomain: 'example.org' });
  key = await authority('k1');
  agent = await TestWorkloadApi.start();
  const own = await makeLeaf(root, { uris: [HARNESS_ID] });
  agent.respond({
    svids: [{ spiffeId: HARNESS_ID, chainPem: own.chainPem, keyPem: own.keyPem, caPem: root.rootPem }],
  });
  agent.respondJwtBundles({ 'example.org': bundleJson([key]) });
  // The contract: the harness finds the Workload API through SPIFFE_ENDPOINT_SOCKET only.
  savedSocket = process.env.SPIFFE_ENDPOINT_SOCKET;
  process.env.SPIFFE_ENDPOINT_SOCKET = agent.address;
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk) => {
    text += chunk;
  });
  harness = await startHarness({ out, log: new PassThrough(), startupTimeoutMs: 5000 });
  lines = text.trimEnd().split('\n');
});

afterAll(async () => {
  await harness?.close();
  await agent?.close();
  if (savedSocket === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET;
  else process.env.SPIFFE_ENDPOINT_SOCKET = savedSocket;
});

function control(
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: harness.controlPort, method, path, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Connects to the X.509 port with `client` and resolves with what the harness wrote before closing. */
function x509Line(client: { chainPem: string; keyPem: string }): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: harness.x509Port,
      cert: client.chainPem,
      key: client.keyPem,
      ca: root.rootPem,
      checkServerIdentity: () => undefined,
    });
    let text = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (chunk) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
  });
}

describe('examples/conformance-harness, through the harness contract v1', () => {
  it('prints the version and both ports, READY last, after the first X.509-SVID (found via SPIFFE_ENDPOINT_SOCKET)', () => {
    expect(lines).toEqual([
      'SPIFFE_HARNESS_VERSION=1',
      `SPIFFE_X509_PORT=${harness.x509Port}`,
      `SPIFFE_CONTROL_PORT=${harness.controlPort}`,
      'READY',
    ]);
    expect(agent.records.filter((r) => r.method === 'FetchX509SVID').every((r) => r.header === 'true')).toBe(
      true,
    );
  });

  it("the X.509 port writes an accepted client's SPIFFE ID and nothing for a refused one", async () => {
    const client = await makeLeaf(root, { uris: ['spiffe://example.org/client'] });
    expect(await x509Line(client)).toBe('spiffe://example.org/client\n');
    const untrusted = await makeLeaf(await makeRoot({ trustDomain: 'example.org' }), {
      uris: ['spiffe://example.org/x'],
    });
    expect(await x509Line(untrusted)).toBe('');
  });

  it('POST /v1/jwt/validate answers ok with the SPIFFE ID and claims, or rejected', async () => {
    const valid = await token(key, { sub: 'spiffe://example.org/caller', aud: ['conformance'] });
    const accepted = await control('POST', '/v1/jwt/validate', { token: valid, audience: 'conformance' });
    expect(accepted.status).toBe(200);
    expect(accepted.json).toMatchObject({
      status: 'ok',
      spiffe_id: 'spiffe://example.org/caller',
      claims: { aud: ['conformance'] },
    });
    const refused = await control('POST', '/v1/jwt/validate', { token: valid, audience: 'other' });
    expect(refused).toMatchObject({ status: 422, json: { status: 'rejected' } });
    // Validated locally: the harness never delegates to ValidateJWTSVID.
    expect(agent.records.filter((r) => r.method === 'ValidateJWTSVID')).toEqual([]);
  });

  it('POST /v1/jwt/fetch passes the audiences and spiffe_id through and returns the SVIDs', async () => {
    const svid = await token(key, { sub: HARNESS_ID, aud: ['a', 'conformance'] });
    agent.jwtSvids = () => ({ svids: [{ spiffe_id: HARNESS_ID, svid }] });
    const answer = await control('POST', '/v1/jwt/fetch', {
      audience: ['a', 'conformance'],
      spiffe_id: HARNESS_ID,
    });
    expect(answer).toEqual({
      status: 200,
      json: { status: 'ok', svids: [{ spiffe_id: HARNESS_ID, token: svid, hint: '' }] },
    });
    expect(agent.records.filter((r) => r.method === 'FetchJWTSVID').at(-1)?.request).toEqual({
      audience: ['a', 'conformance'],
      spiffe_id: HARNESS_ID,
    });
  });

  it("POST /v1/x509/dial answers ok with the server's SPIFFE ID, or rejected", async () => {
    const good = await startPeerServer(await makeLeaf(root, { uris: ['spiffe://example.org/server'] }));
    const bad = await startPeerServer(
      await makeLeaf(await makeRoot({ trustDomain: 'example.org' }), {
        uris: ['spiffe://example.org/server'],
      }),
    );
    try {
      expect(await control('POST', '/v1/x509/dial', { address: `127.0.0.1:${good.port}` })).toEqual({
        status: 200,
        json: { status: 'ok', spiffe_id: 'spiffe://example.org/server' },
      });
      expect(await control('POST', '/v1/x509/dial', { address: `127.0.0.1:${bad.port}` })).toMatchObject({
        status: 422,
        json: { status: 'rejected' },
      });
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it('GET /v1/info reports the SDK', async () => {
    expect(await control('GET', '/v1/info')).toMatchObject({ status: 200, json: { sdk: 'meshless' } });
  });
});
