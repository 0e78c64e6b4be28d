import * as grpc from '@grpc/grpc-js';
import { authorize, loadMaterial, type MemorySource, MeshlessError, memorySource } from '@meshless/core';
import { type CertificateAuthority, createCa } from '@meshless/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIntermediate, makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { grpcChannelCredentials, grpcServerCredentials } from '../src/index.js';
import { type EchoServer, echoClient, startEcho } from './support/echo-service.js';

const TD = 'example.org';
const SERVER = `spiffe://${TD}/ns/prod/sa/orders`;
const WEB = `spiffe://${TD}/ns/prod/sa/web`;
const INTRUDER = `spiffe://${TD}/ns/prod/sa/intruder`;

let ca: CertificateAuthority;
let serverSource: MemorySource;
let echo: EchoServer;

async function sourceFor(spiffeId: string, authority = ca): Promise<MemorySource> {
  const issued = await authority.issue({ spiffeId });
  return memorySource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem }));
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, 'the call should have failed').toBeInstanceOf(Error);
  return error as grpc.ServiceError;
}

beforeAll(async () => {
  ca = await createCa({ trustDomain: TD });
  serverSource = await sourceFor(SERVER);
  echo = await startEcho(grpcServerCredentials(serverSource, { authorize: authorize.id(WEB) }));
});

afterAll(async () => {
  await echo.close();
  await serverSource.close();
});

describe('gRPC over mutual TLS from certificate sources', () => {
  it('serves an allowed client, which sees the server it expects; the handler sees the caller', async () => {
    const source = await sourceFor(WEB);
    const client = echoClient(echo.port, grpcChannelCredentials(source, { authorizeServer: SERVER }));
    try {
      const reply = await client.whoami();
      expect(reply.caller).toBe(WEB);
      expect(reply.serial).toBe(source.current().identity.serialNumber);
    } finally {
      client.close();
    }
  });

  it('answers PERMISSION_DENIED to a verified client the authorizer denies', async () => {
    const client = echoClient(
      echo.port,
      grpcChannelCredentials(await sourceFor(INTRUDER), { authorizeServer: SERVER }),
    );
    try {
      const error = await failure(client.whoami());
      expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(error.details).toContain(INTRUDER);
    } finally {
      client.close();
    }
  });

  it('refuses a client without a certificate, and one from a foreign CA, in the handshake', async () => {
    const foreign = await createCa({ trustDomain: TD });
    const noCert = echoClient(echo.port, grpc.credentials.createSsl(Buffer.from(ca.caPem)), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    // The stranger trusts the server (so only the server's verdict on its certificate matters).
    const foreignWeb = await foreign.issue({ spiffeId: WEB });
    const stranger = echoClient(
      echo.port,
      grpc.credentials.createSsl(
        Buffer.from(ca.caPem),
        Buffer.from(foreignWeb.keyPem),
        Buffer.from(foreignWeb.chainPem),
        { checkServerIdentity: () => undefined },
      ),
    );
    try {
      expect((await failure(noCert.whoami())).code).toBe(grpc.status.UNAVAILABLE);
      expect((await failure(stranger.whoami())).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      noCert.close();
      stranger.close();
    }
  });

  it('makes the client refuse a server whose SPIFFE ID it does not expect', async () => {
    const client = echoClient(
      echo.port,
      grpcChannelCredentials(await sourceFor(WEB), { authorizeServer: `spiffe://${TD}/ns/prod/sa/billing` }),
    );
    try {
      const error = await failure(client.whoami());
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(error.details).toContain('is not allowed');
      expect(error.details).toContain(SERVER);
    } finally {
      client.close();
    }
  });

  it('refuses new connections while the server source is withdrawn, and serves again after', async () => {
    const source = await sourceFor(WEB);
    serverSource.on('error', () => {});
    serverSource.withdraw(new MeshlessError('ERR_MESHLESS_SVID_WITHDRAWN', 'taken back'));
    const refused = echoClient(echo.port, grpcChannelCredentials(source, { authorizeServer: SERVER }));
    try {
      expect((await failure(refused.whoami(2000))).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      refused.close();
    }
    serverSource.set(await reissued(SERVER));
    const served = echoClient(echo.port, grpcChannelCredentials(source, { authorizeServer: SERVER }));
    try {
      expect((await served.whoami()).caller).toBe(WEB);
    } finally {
      served.close();
    }
  });

  it('makes no connection from a withdrawn client source', async () => {
    const source = await sourceFor(WEB);
    source.on('error', () => {});
    source.withdraw(new MeshlessError('ERR_MESHLESS_SVID_WITHDRAWN', 'taken back'));
    const client = echoClient(echo.port, grpcChannelCredentials(source, { authorizeServer: SERVER }));
    try {
      expect((await failure(client.whoami(2000))).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it('refuses calls on open connections once the client no longer chains to a trusted root', async () => {
    const rotating = await sourceFor(SERVER);
    const server = await startEcho(grpcServerCredentials(rotating, { authorize: authorize.any() }));
    const client = echoClient(
      server.port,
      grpcChannelCredentials(await sourceFor(WEB), { authorizeServer: SERVER }),
    );
    try {
      expect((await client.whoami()).caller).toBe(WEB);
      // The server moves to a new CA and trusts only it; the client's connection stays open.
      rotating.set(await reissued(SERVER, await createCa({ trustDomain: TD })));
      const error = await failure(client.whoami());
      expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(error.details).toContain('no longer chains to a trusted root');
    } finally {
      client.close();
      await server.close();
      await rotating.close();
    }
  });

  it('refuses bad options with ERR_MESHLESS_INVALID_OPTION', () => {
    const invalid = expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' });
    expect(() => grpcServerCredentials(serverSource, {} as never)).toThrow(invalid);
    expect(() => grpcServerCredentials({} as never, { authorize: authorize.any() })).toThrow(invalid);
    expect(() => grpcChannelCredentials(serverSource, { authorizeServer: 'not-an-id' })).toThrow();
  });
});

async function reissued(spiffeId: string, authority = ca) {
  const issued = await authority.issue({ spiffeId });
  return loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
}

describe('gRPC with federated trust bundles', () => {
  let aRoot: TestCa;
  let bRoot: TestCa;
  let server: EchoServer;
  let source: MemorySource;

  beforeAll(async () => {
    aRoot = await makeRoot({ trustDomain: 'a.org' });
    bRoot = await makeRoot({ trustDomain: 'b.org' });
    const leaf = await makeLeaf(aRoot, { uris: ['spiffe://a.org/orders'] });
    source = memorySource(
      loadMaterial({
        cert: leaf.chainPem,
        key: leaf.keyPem,
        ca: aRoot.rootPem,
        federatedBundles: { 'b.org': bRoot.rootPem },
      }),
    );
    server = await startEcho(grpcServerCredentials(source, { authorize: authorize.any() }));
  });

  afterAll(async () => {
    await server.close();
    await source.close();
  });

  const clientWith = (leaf: { chainPem: string; keyPem: string }) =>
    echoClient(
      server.port,
      grpc.credentials.createSsl(
        Buffer.from(aRoot.rootPem),
        Buffer.from(leaf.keyPem),
        Buffer.from(leaf.chainPem),
        {
          checkServerIdentity: () => undefined,
        },
      ),
      // grpc-js's own credentials send the target host as SNI, and Node 26 refuses an IP address there.
      { 'grpc.ssl_target_name_override': 'localhost' },
    );

  it('serves a client of the federated trust domain issued by an intermediate', async () => {
    const partner = await makeLeaf(await makeIntermediate(bRoot), { uris: ['spiffe://b.org/billing'] });
    const client = clientWith(partner);
    try {
      expect((await client.whoami()).caller).toBe('spiffe://b.org/billing');
    } finally {
      client.close();
    }
  });

  it("answers UNAUTHENTICATED to a.org's ID issued by b.org's CA", async () => {
    const forged = await makeLeaf(bRoot, { uris: ['spiffe://a.org/admin'] });
    const client = clientWith(forged);
    try {
      const error = await failure(client.whoami());
      expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(error.details).toContain('does not chain to the trust bundle of its own trust domain a.org');
    } finally {
      client.close();
    }
  });
});
