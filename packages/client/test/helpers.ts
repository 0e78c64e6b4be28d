// Real TLS servers on 127.0.0.1 port 0 and certificates made at test time, for the client tests.

import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { loadMaterial, secureTlsDefaults, type TlsMaterial } from '@meshless/core';
import { type CertSpec, makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';

export const TD = 'example.org';
export const SERVER_ID = `spiffe://${TD}/ns/prod/sa/orders`;
export const OTHER_SERVER_ID = `spiffe://${TD}/ns/prod/sa/billing`;
export const CLIENT_ID = `spiffe://${TD}/ns/prod/sa/web`;

/** A leaf issued by `ca`, loaded and validated as a source would. */
export async function material(ca: TestCa, spec: CertSpec = {}): Promise<TlsMaterial> {
  return loadMaterial(materialOf(await makeLeaf(ca, spec)));
}

/** What the server saw of one TLS connection. */
export interface SeenConnection {
  reused: boolean;
  /** Serial number of the client certificate, as Node prints it. */
  clientSerial: string | undefined;
  remotePort: number | undefined;
  alpn: string | false | null;
}

export interface TestServer {
  url: string;
  port: number;
  connections: SeenConnection[];
  /** Handshakes the server refused (client certificate missing or untrusted). */
  refused: Error[];
  /** Client ports of the TLS connections that have closed. */
  closedPorts: number[];
  close(): Promise<void>;
}

export type Handler = (
  req: IncomingMessage | http2.Http2ServerRequest,
  res: ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ServerSpec {
  material: TlsMaterial;
  /** A different trust bundle for client certificates (default: the material's). */
  clientCa?: string;
  http2?: boolean;
  ticketKeys?: Buffer;
  handler?: Handler;
  port?: number;
  /** Caps the TLS version, to exercise TLS 1.2. */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** The server's cipher list (an attacker's server may lower OpenSSL's security level). */
  ciphers?: string;
}

/** Answers with what the server knows about the connection. */
export const describeConnection: Handler = (req, res) => {
  const socket = req.socket as TLSSocket;
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify({
      reused: socket.isSessionReused(),
      clientSerial: socket.getPeerX509Certificate()?.serialNumber,
      remotePort: socket.remotePort,
    }),
  );
};

/** Starts an mTLS server (node:https, or node:http2 with h2 and HTTP/1.1) on 127.0.0.1. */
export async function startServer(spec: ServerSpec): Promise<TestServer> {
  const options = {
    ...secureTlsDefaults,
    cert: spec.material.certPem,
    key: spec.material.keyPem,
    ca: spec.clientCa ?? spec.material.caPem,
    requestCert: true,
    rejectUnauthorized: true,
    ...(spec.ticketKeys ? { ticketKeys: spec.ticketKeys } : {}),
    ...(spec.maxVersion ? { maxVersion: spec.maxVersion } : {}),
    ...(spec.ciphers ? { ciphers: spec.ciphers } : {}),
  };
  const handler = spec.handler ?? describeConnection;
  const server = spec.http2
    ? http2.createSecureServer({ ...options, allowHTTP1: true }, handler as never)
    : https.createServer(options, handler as never);
  const connections: SeenConnection[] = [];
  const refused: Error[] = [];
  const sockets = new Set<TLSSocket>();
  const closedPorts: number[] = [];
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    const remotePort = socket.remotePort;
    socket.on('close', () => {
      sockets.delete(socket);
      if (remotePort !== undefined) closedPorts.push(remotePort);
    });
    connections.push({
      reused: socket.isSessionReused(),
      clientSerial: socket.getPeerX509Certificate()?.serialNumber,
      remotePort: socket.remotePort,
      alpn: socket.alpnProtocol,
    });
  });
  server.on('tlsClientError', (err: Error) => refused.push(err));
  server.listen(spec.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    connections,
    refused,
    closedPorts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A root for the mesh, and the server and client materials most tests use. */
export async function makeMesh(): Promise<{ ca: TestCa; server: TlsMaterial; client: TlsMaterial }> {
  const ca = await makeRoot({ trustDomain: TD });
  const [server, client] = await Promise.all([
    material(ca, { subject: 'CN=orders', uris: [SERVER_ID] }),
    material(ca, { subject: 'CN=web', uris: [CLIENT_ID] }),
  ]);
  return { ca, server, client };
}

/** The chain of `cause`s of an error, the error first. */
export function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current = error;
  while (current !== undefined && current !== null && chain.length < 10) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The first meshless code in an error's cause chain. */
export function meshlessCode(error: unknown): string | undefined {
  for (const link of causes(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_MESHLESS_')) return code;
  }
  return undefined;
}

/** Resolves with the rejection of `promise`, or fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Polls `check` until it returns true, for at most `ms` milliseconds. */
export async function waitFor(check: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
