// Issue 15, points 3 and 4 for gRPC: the TLS options given to grpcServerCredentials apply on every
// secure context grpc-js is handed (after each rotation too), and options that cannot apply are refused.
import { constants } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { authorize, isMeshlessError, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { opensslCrl } from '../../../test/support/openssl-crl.js';
import { grpcChannelCredentials, grpcServerCredentials } from '../src/index.js';
import { type EchoServer, echoClient, startEcho } from './support/echo-service.js';

const SERVER = 'spiffe://example.org/ns/prod/sa/orders';
const WEB = 'spiffe://example.org/ns/prod/sa/web';

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
let root: TestCa;
let rotated: Leaf;
let web: Leaf;
let revoked: Leaf;
let serverSource: MemorySource;
let echo: EchoServer;

beforeAll(async () => {
  root = await makeRoot();
  const first = await makeLeaf(root, { uris: [SERVER] });
  rotated = await makeLeaf(root, { uris: [SERVER] });
  web = await makeLeaf(root, { uris: [WEB] });
  revoked = await makeLeaf(root, { uris: [WEB] });
  const crl = await opensslCrl(root, [revoked.cert]);
  serverSource = memorySource(loadMaterial(materialOf(first)));
  echo = await startEcho(grpcServerCredentials(serverSource, { authorize: authorize.any(), crl }));
});

afterAll(async () => {
  await echo.close();
  await serverSource.close();
});

// One call over a new channel (a new connection and handshake) as `leaf`.
async function callAs(leaf: Leaf): Promise<string | grpc.ServiceError> {
  const source = memorySource(loadMaterial(materialOf(leaf)));
  const client = echoClient(echo.port, grpcChannelCredentials(source, { authorizeServer: SERVER }));
  try {
    return (await client.whoami(3000)).caller;
  } catch (error) {
    return error as grpc.ServiceError;
  } finally {
    client.close();
    await source.close();
  }
}

describe('grpcServerCredentials TLS options across rotations', () => {
  it('a crl keeps refusing the revoked client after the server certificate rotates (CRL from the openssl CLI)', async () => {
    expect(await callAs(web)).toBe(WEB);
    expect(await callAs(revoked)).toMatchObject({ code: grpc.status.UNAVAILABLE });
    serverSource.set(loadMaterial(materialOf(rotated)));
    expect(await callAs(web)).toBe(WEB);
    expect(await callAs(revoked)).toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});

describe('gRPC credentials options fail closed', () => {
  const invalid = (build: () => unknown, message: RegExp) => {
    let thrown: unknown;
    try {
      build();
    } catch (error) {
      thrown = error;
    }
    expect(isMeshlessError(thrown, 'ERR_MESHLESS_INVALID_OPTION'), String(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  };

  it('grpcServerCredentials refuses a typo, a string authorizer, a weak version and an unsafe flag', () => {
    invalid(
      () => grpcServerCredentials(serverSource, { authorise: authorize.any() } as never),
      /^grpcServerCredentials: unknown option "authorise"; did you mean "authorize"\?$/,
    );
    invalid(
      () => grpcServerCredentials(serverSource, { authorize: WEB } as never),
      /authorize must be an authorizer function.*got the string "spiffe:\/\/example\.org\/ns\/prod\/sa\/web"/,
    );
    invalid(
      () => grpcServerCredentials(serverSource, { authorize: authorize.any(), minVersion: 'TLSv1' as never }),
      /minVersion must be 'TLSv1\.2' or 'TLSv1\.3'/,
    );
    invalid(
      () =>
        grpcServerCredentials(serverSource, {
          authorize: authorize.any(),
          secureOptions: constants.SSL_OP_LEGACY_SERVER_CONNECT,
        }),
      /SSL_OP_LEGACY_SERVER_CONNECT/,
    );
  });

  it('grpcChannelCredentials refuses TLS options it could not apply, and unknown keys', () => {
    invalid(
      () => grpcChannelCredentials(serverSource, { crl: 'x' } as never),
      /option "crl" is not accepted/,
    );
    invalid(
      () => grpcChannelCredentials(serverSource, { rejectUnauthorized: true } as never),
      /option "rejectUnauthorized" is not accepted/,
    );
    invalid(
      () => grpcChannelCredentials(serverSource, { authorizeServr: SERVER } as never),
      /unknown option "authorizeServr"; did you mean "authorizeServer"\?/,
    );
  });
});
