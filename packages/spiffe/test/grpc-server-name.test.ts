// The TLS server name (SNI) of meshless's gRPC channels, on every Node line: Node 26 refuses an IP
// address as SNI, and grpc-js sends the target's host, so without meshless's own connector no gRPC
// client could reach a server by IP address there.
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { type CertificateAuthority, createCa } from '@meshless/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetHost } from '../src/grpc/secure-connector.js';
import { grpcChannelCredentials, grpcServerCredentials } from '../src/index.js';
import { type EchoServer, echoClient, startEcho } from './support/echo-service.js';

const TD = 'example.org';
const SERVER = `spiffe://${TD}/ns/prod/sa/orders`;
const WEB = `spiffe://${TD}/ns/prod/sa/web`;

let ca: CertificateAuthority;
let serverSource: MemorySource;
let clientSource: MemorySource;
let echo: EchoServer;

async function sourceFor(spiffeId: string): Promise<MemorySource> {
  const issued = await ca.issue({ spiffeId, dnsNames: ['localhost'] });
  return memorySource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem }));
}

beforeAll(async () => {
  ca = await createCa({ trustDomain: TD });
  serverSource = await sourceFor(SERVER);
  clientSource = await sourceFor(WEB);
  echo = await startEcho(grpcServerCredentials(serverSource, { authorize: authorize.id(WEB) }));
});

afterAll(async () => {
  await echo.close();
  await serverSource.close();
  await clientSource.close();
});

/**
 * The server name a gRPC channel to `target` sends: a TLS server with the gRPC server's certificate
 * records it (`false` when none is sent) and ends the connection.
 */
async function serverNameSent(target: (port: number) => string, options: grpc.ChannelOptions = {}) {
  const material = serverSource.current();
  const recorder = tls.createServer({
    cert: material.certPem,
    key: material.keyPem,
    ALPNProtocols: ['h2'],
  });
  const seen = new Promise<string | false | null>((resolve) =>
    recorder.once('secureConnection', (socket) => {
      resolve(socket.servername);
      socket.destroy();
    }),
  );
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const port = (recorder.address() as AddressInfo).port;
  const client = new grpc.Client(
    target(port),
    grpcChannelCredentials(clientSource, { authorizeServer: SERVER }),
    options,
  );
  try {
    client.waitForReady(Date.now() + 5000, () => {});
    return await Promise.race([
      seen,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no TLS connection came')), 5000)),
    ]);
  } finally {
    client.close();
    recorder.close();
  }
}

describe('the server name of gRPC channels', () => {
  it('calls a gRPC server by IP address', async () => {
    const client = echoClient(echo.port, grpcChannelCredentials(clientSource, { authorizeServer: SERVER }));
    try {
      expect((await client.whoami()).caller).toBe(WEB);
    } finally {
      client.close();
    }
  });

  it('sends no server name for an IP address, the host name for a host name, and the override', async () => {
    expect(await serverNameSent((port) => `127.0.0.1:${port}`)).toBe(false);
    expect(await serverNameSent((port) => `ipv4:127.0.0.1:${port}`)).toBe(false);
    expect(await serverNameSent((port) => `localhost:${port}`)).toBe('localhost');
    expect(
      await serverNameSent((port) => `127.0.0.1:${port}`, {
        'grpc.ssl_target_name_override': 'orders.internal',
      }),
    ).toBe('orders.internal');
  });

  it.each([
    [{ scheme: 'dns', path: '10.0.0.7:8443' }, {}, '10.0.0.7'],
    [{ scheme: undefined, path: 'orders.prod.svc:8443' }, {}, 'orders.prod.svc'],
    [{ scheme: 'ipv4', path: '10.0.0.7:8443,10.0.0.8:8443' }, {}, '10.0.0.7'],
    [{ scheme: 'ipv6', path: '[::1]:8443' }, {}, '::1'],
    [{ scheme: 'unix', path: '/run/orders.sock' }, {}, 'localhost'],
    [{ scheme: 'dns', path: 'proxy:3128' }, { 'grpc.http_connect_target': 'dns:///orders:8443' }, 'orders'],
  ])('finds the host of the target %j with options %j: %s', (target, options, host) => {
    expect(targetHost(target as grpc.experimental.GrpcUri, options)).toBe(host);
  });
});
