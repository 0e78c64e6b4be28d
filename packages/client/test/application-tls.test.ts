// Issue 15, point 3 on the client: the TLS options given under `connect` apply to every connection,
// after a rotation of the client certificate too, or are refused when the agent is built.
import { memorySource, type TlsMaterial } from '@meshless/core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCa } from '../../../test/support/certs.js';
import { opensslCrl } from '../../../test/support/openssl-crl.js';
import { type ClientOptions, createAgent } from '../src/index.js';
import {
  CLIENT_ID,
  causes,
  makeMesh,
  material,
  rejectionOf,
  SERVER_ID,
  startServer,
  type TestServer,
} from './helpers.js';

let ca: TestCa;
let first: TlsMaterial;
let second: TlsMaterial;
let server: TestServer;
let tls12Server: TestServer;
let crlRevokingServer: string;

beforeAll(async () => {
  const mesh = await makeMesh();
  ca = mesh.ca;
  first = mesh.client;
  second = await material(ca, { subject: 'CN=web rotated', uris: [CLIENT_ID] });
  server = await startServer({ material: mesh.server });
  tls12Server = await startServer({ material: mesh.server, maxVersion: 'TLSv1.2' });
  crlRevokingServer = await opensslCrl(ca, [mesh.server.leaf]);
});

afterAll(async () => {
  await server.close();
  await tls12Server.close();
});

// Asks `target` once through an agent with `connect`, before and after the client certificate rotates.
async function beforeAndAfterRotation(
  target: TestServer,
  connect: ClientOptions['connect'],
): Promise<Array<number | Error>> {
  const source = memorySource(first);
  const agent = createAgent({ source, authorizeServer: SERVER_ID, connect });
  const ask = async () => {
    try {
      const { statusCode, body } = await request(`${target.url}/`, { dispatcher: agent });
      await body.dump();
      return statusCode;
    } catch (error) {
      return error as Error;
    }
  };
  try {
    const before = await ask();
    source.set(second);
    expect(agent.rotations).toBe(1);
    return [before, await ask()];
  } finally {
    await agent.close();
    await source.close();
  }
}

const reasons = (outcome: number | Error) =>
  typeof outcome === 'number'
    ? String(outcome)
    : causes(outcome)
        .map((e) => `${(e as Error).message} ${(e as { code?: string }).code}`)
        .join(' | ');

describe('createAgent connect TLS options across rotations', () => {
  it('connect.crl refuses a revoked server certificate, after a rotation too (CRL from the openssl CLI)', async () => {
    const outcomes = await beforeAndAfterRotation(server, { crl: crlRevokingServer });
    for (const outcome of outcomes) expect(reasons(outcome)).toMatch(/CERT_REVOKED|revoked/i);
  });

  it('without the CRL the same server is served before and after the rotation (the control)', async () => {
    expect(await beforeAndAfterRotation(server, {})).toEqual([200, 200]);
  });

  it("connect.minVersion 'TLSv1.3' refuses a TLS 1.2 server, after a rotation too", async () => {
    expect(await beforeAndAfterRotation(tls12Server, {})).toEqual([200, 200]);
    const outcomes = await beforeAndAfterRotation(tls12Server, { minVersion: 'TLSv1.3' });
    for (const outcome of outcomes) expect(reasons(outcome)).toMatch(/protocol version|ERR_SSL/i);
  });

  it('a weaker TLS option under connect is refused when the agent is built', async () => {
    const error = await rejectionOf(
      (async () =>
        createAgent({ source: memorySource(first), connect: { minVersion: 'TLSv1.1' as never } }))(),
    );
    expect((error as { code?: string }).code).toBe('ERR_MESHLESS_INVALID_OPTION');
    expect(error.message).toMatch(/^createAgent: connect: minVersion must be 'TLSv1\.2' or 'TLSv1\.3'/);
  });
});
